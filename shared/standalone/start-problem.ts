/**
 * One sentence for a listen failure the operator can fix (port in use, no permission, an address this
 * machine does not have), naming the settings that change it; `undefined` for anything else.
 *
 * @example
 * listenProblem(error, '0.0.0.0', 8000); // 'port 8000 on 0.0.0.0 is already in use …'
 */
export function listenProblem(error: unknown, host: string, port: number): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const change =
    'start on another port with `npm start -- --port 8302`, or set GATEWAY_SERVER__PORT (or PORT), ' +
    'or server.port in the configuration file';
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is already in use by another process: ${change}.`;
  if (code === 'EACCES') return `this user may not listen on port ${port} on ${host}: ${change}.`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return (
      `${host} is not an address of this machine: start with \`npm start -- --host 127.0.0.1\` (or 0.0.0.0 for ` +
      'every interface), or set GATEWAY_SERVER__HOST, or server.host in the configuration file.'
    );
  return undefined;
}

/**
 * A problem at start the operator can fix (a port in use, storage unreachable): the host stops with this
 * sentence and exit code 1, no stack trace.
 */
export class StartProblem extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StartProblem';
  }
}
