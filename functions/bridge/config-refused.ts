/**
 * Thrown when the Functions app's host cannot be built because its configuration is refused (schema
 * problems, or production mode without caller identity). The HTTP triggers answer every call with 503
 * `GW_ERR_SERVICE_NOT_CONFIGURED` naming these problems instead of serving anything; the next call tries
 * the configuration again.
 */
export class ConfigRefusedError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly string[],
  ) {
    super(`gateway configuration (${source}) is refused, ${issues.length} problem(s):\n${issues.join('\n')}`);
    this.name = 'ConfigRefusedError';
  }
}
