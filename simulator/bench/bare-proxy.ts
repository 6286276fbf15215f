import { createServer } from 'node:http';
import { Pool } from 'undici';

/**
 * The floor of the benchmark: a bare Node reverse proxy (node:http in, one undici Pool out, body read and
 * written back, no routing, metering, scheduling or headers of its own). Started by `npm run bench` as
 * its own process so the report shows what Node and undici alone cost on this machine next to what the
 * gateway's features add. Usage: node dist/simulator/bench/bare-proxy.js <port> <backend-url>
 */
const [portText, backend] = process.argv.slice(2);
if (portText === undefined || backend === undefined) {
  process.stderr.write('usage: bare-proxy <port> <backend-url>\n');
  process.exit(2);
}
const pool = new Pool(backend, { connections: 512 });
const server = createServer((req, res) => {
  void (async () => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await pool.request({
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as 'POST',
        // The simulator's scripted behaviour header goes through, as it does through the gateway.
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/json',
          ...(req.headers['x-sim-fault'] === undefined ? {} : { 'x-sim-fault': req.headers['x-sim-fault'] }),
        },
        body: Buffer.concat(chunks),
      });
      res.writeHead(upstream.statusCode, {
        'content-type': String(upstream.headers['content-type'] ?? 'application/json'),
      });
      for await (const chunk of upstream.body) res.write(chunk);
      res.end();
    } catch {
      res.destroy();
    }
  })();
});
server.listen(Number(portText), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
