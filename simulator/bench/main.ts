import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runH2load, type LoadResult } from './h2load.js';
import { cpuSeconds, rssMb } from './process-stats.js';

/**
 * `npm run bench`: the same load against the simulator directly and through the gateway, in one run,
 * alternating direct and gateway at each level, and prints the ratios. The simulator called directly is
 * the baseline; the gateway runs as its own process (the standalone host) so its CPU and memory are
 * its own. Loopback only; every run is bounded by its duration.
 */
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '1,50,200' },
    streams: { type: 'string', default: '200' },
    quick: { type: 'boolean', default: false },
  },
});
const durationS = values.quick ? 2 : Number(values.duration);
const warmupS = values.quick ? 1 : Number(values.warmup);
const levels = values.connections.split(',').map(Number);
const openStreams = Number(values.streams);
const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function start(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyUrl: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    try {
      const response = await fetch(readyUrl);
      if (response.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not start`);
}

function gatewayConfig(simUrl: string, port: number, metering: boolean): string {
  const file = join(dir, `gateway-${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      server: { host: '127.0.0.1', port },
      backends: [{ id: 'sim', url: simUrl, kind: 'openai', maxConcurrency: 10_000 }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
      governance: { identity: { anonymous: { allowed: true } } },
      scheduling: { maxQueueDepth: 100_000 },
      usage: { enabled: metering, ledger: { kind: 'memory', maxRecords: 1000 } },
    }),
  );
  return file;
}

interface Row {
  scenario: string;
  connections: number;
  direct: LoadResult;
  bare: LoadResult;
  gateway: LoadResult;
  gatewayCpuPct: number;
}

async function measure(
  url: string,
  body: string,
  connections: number,
  pid?: number,
): Promise<{ result: LoadResult; cpuPct: number }> {
  const before = pid === undefined ? 0 : cpuSeconds(pid);
  const started = performance.now();
  const result = await runH2load({
    url,
    bodyFile: body,
    connections,
    durationS,
    warmupS,
    logFile: join(dir, 'h2load.log'),
  });
  const elapsedS = (performance.now() - started) / 1000;
  const cpuPct = pid === undefined ? 0 : ((cpuSeconds(pid) - before) / elapsedS) * 100;
  return { result, cpuPct };
}

/** Time to the first body byte of a stream, sequential calls on one keep-alive connection. */
async function ttfb(url: string, body: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(
      await new Promise<number>((resolve, reject) => {
        const started = performance.now();
        const req = httpRequest(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            let first: number | undefined;
            res.on('data', () => (first ??= performance.now() - started));
            res.on('end', () => resolve(first ?? NaN));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    );
  }
  agent.destroy();
  return samples.sort((a, b) => a - b);
}

/** Opens `count` slow streams through the gateway and reads RSS while they are all open. */
async function memoryPerStream(
  url: string,
  pid: number,
  count: number,
): Promise<{ idleMb: number; openMb: number; perStreamKb: number }> {
  const idleMb = rssMb(pid).rssMb;
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: 'long answer please' }],
  });
  let firstChunks = 0;
  let resolveAllOpen: () => void;
  const allOpen = new Promise<void>((r) => (resolveAllOpen = r));
  const done: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    done.push(
      new Promise<void>((resolve) => {
        const req = httpRequest(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-sim-fault': 'tps=10;tokens=60' } },
          (res) => {
            let counted = false;
            res.on('data', () => {
              if (!counted) {
                counted = true;
                if (++firstChunks === count) resolveAllOpen();
              }
            });
            res.on('end', resolve);
            res.on('error', () => resolve());
          },
        );
        req.on('error', () => resolve());
        req.end(body);
      }),
    );
  }
  await Promise.race([allOpen, new Promise((r) => setTimeout(r, 10_000))]);
  await new Promise((r) => setTimeout(r, 1000));
  const openMb = rssMb(pid).rssMb;
  await Promise.all(done);
  agent.destroy();
  return { idleMb, openMb, perStreamKb: ((openMb - idleMb) * 1024) / count };
}

const pct = (values: number[], p: number): number =>
  values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN;
const f = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  const simPort = await freePort();
  const simUrl = `http://127.0.0.1:${simPort}`;
  const sim = await start(
    'simulator',
    ['dist/simulator/main.js', '--port', String(simPort), '--no-record', '--name', 'bench'],
    {},
    `${simUrl}/_sim/health`,
  );
  const gwPort = await freePort();
  const gwUrl = `http://127.0.0.1:${gwPort}`;
  const gateway = await start(
    'gateway',
    ['dist/shared/standalone/main.js'],
    { GATEWAY_CONFIG_FILE: gatewayConfig(simUrl, gwPort, true) },
    `${gwUrl}/health/live`,
  );
  const startRssMb = rssMb(gateway.pid!).rssMb;
  const barePort = await freePort();
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const bare = await start(
    'bare proxy',
    ['dist/simulator/bench/bare-proxy.js', String(barePort), simUrl],
    {},
    `${bareUrl}/_sim/health`,
  );
  const offPort = await freePort();
  const offUrl = `http://127.0.0.1:${offPort}`;
  const gatewayOff = await start(
    'gateway (metering off)',
    ['dist/shared/standalone/main.js'],
    { GATEWAY_CONFIG_FILE: gatewayConfig(simUrl, offPort, false) },
    `${offUrl}/health/live`,
  );

  const chat = join(dir, 'chat.json');
  const stream = join(dir, 'chat-stream.json');
  const messages = [{ role: 'user', content: 'Summarise the benefits of a gateway in one paragraph.' }];
  writeFileSync(chat, JSON.stringify({ model: 'gpt-4o-mini', messages }));
  writeFileSync(stream, JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages }));

  // Memory per open stream first, on a gateway that has seen no load yet (its heap is still small).
  const memory = await memoryPerStream(`${gwUrl}/v1/chat/completions`, gateway.pid!, openStreams);

  const rows: Row[] = [];
  for (const [scenario, body] of [
    ['chat', chat],
    ['chat stream (16 tokens)', stream],
  ] as const) {
    for (const [i, connections] of levels.entries()) {
      // Alternate which side goes first so that warm-up and thermal drift do not favour one.
      const order = i % 2 === 0 ? (['direct', 'bare', 'gateway'] as const) : (['gateway', 'bare', 'direct'] as const);
      const results: Partial<Record<'direct' | 'bare' | 'gateway', { result: LoadResult; cpuPct: number }>> = {};
      for (const side of order) {
        const url = side === 'direct' ? simUrl : side === 'bare' ? bareUrl : gwUrl;
        results[side] = await measure(
          `${url}/v1/chat/completions`,
          body,
          connections,
          side === 'gateway' ? gateway.pid! : undefined,
        );
      }
      rows.push({
        scenario,
        connections,
        direct: results.direct!.result,
        bare: results.bare!.result,
        gateway: results.gateway!.result,
        gatewayCpuPct: results.gateway!.cpuPct,
      });
      process.stderr.write(
        `  ${scenario} c=${connections}: direct ${f(results.direct!.result.rps, 0)} rps, bare proxy ${f(results.bare!.result.rps, 0)} rps, gateway ${f(results.gateway!.result.rps, 0)} rps\n`,
      );
    }
  }
  // Metering cost: streaming at the highest level, metering on vs off, same run.
  const top = Math.max(...levels);
  const meteredOn = await measure(`${gwUrl}/v1/chat/completions`, stream, top, gateway.pid!);
  const meteredOff = await measure(`${offUrl}/v1/chat/completions`, stream, top, gatewayOff.pid!);
  const meteredOn2 = await measure(`${gwUrl}/v1/chat/completions`, stream, top, gateway.pid!);

  const streamBody = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages });
  const ttfbCount = values.quick ? 100 : 400;
  await ttfb(`${simUrl}/v1/chat/completions`, streamBody, 50);
  await ttfb(`${gwUrl}/v1/chat/completions`, streamBody, 50);
  const ttfbDirect = await ttfb(`${simUrl}/v1/chat/completions`, streamBody, ttfbCount);
  const ttfbGateway = await ttfb(`${gwUrl}/v1/chat/completions`, streamBody, ttfbCount);
  const peak = rssMb(gateway.pid!).peakMb;

  const lines: string[] = [];
  lines.push(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; h2load --h1, ${durationS}s per run after ${warmupS}s warm-up`,
  );
  lines.push('');
  lines.push(
    '| scenario | conns | direct rps | bare proxy rps (ratio) | gateway rps | ratio | direct p50 ms | added p50 ms: bare / gateway | direct p99 ms | added p99 ms: bare / gateway | gateway CPU % | failed |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.connections} | ${f(r.direct.rps, 0)} | ${f(r.bare.rps, 0)} (${f(r.bare.rps / r.direct.rps)}) | ${f(r.gateway.rps, 0)} | ${f(r.gateway.rps / r.direct.rps)} | ${f(r.direct.p50Ms, 3)} | ${f(r.bare.p50Ms - r.direct.p50Ms, 3)} / ${f(r.gateway.p50Ms - r.direct.p50Ms, 3)} | ${f(r.direct.p99Ms, 3)} | ${f(r.bare.p99Ms - r.direct.p99Ms, 3)} / ${f(r.gateway.p99Ms - r.direct.p99Ms, 3)} | ${f(r.gatewayCpuPct, 0)} | ${r.direct.failed + r.bare.failed + r.gateway.failed} |`,
    );
  }
  lines.push('');
  const onRps = (meteredOn.result.rps + meteredOn2.result.rps) / 2;
  lines.push(
    `metering cost (stream, ${top} conns): on ${f(onRps, 0)} rps (two runs: ${f(meteredOn.result.rps, 0)}, ${f(meteredOn2.result.rps, 0)}), off ${f(meteredOff.result.rps, 0)} rps → ${f((1 - onRps / meteredOff.result.rps) * 100, 1)}% slower with metering`,
  );
  lines.push(
    `stream time to first byte (1 connection, ${ttfbCount} sequential): direct p50 ${f(pct(ttfbDirect, 50), 3)} ms, gateway p50 ${f(pct(ttfbGateway, 50), 3)} ms → added ${f(pct(ttfbGateway, 50) - pct(ttfbDirect, 50), 3)} ms (p99 added ${f(pct(ttfbGateway, 99) - pct(ttfbDirect, 99), 3)} ms)`,
  );
  lines.push(
    `memory: gateway RSS at start ${f(startRssMb, 1)} MB; with ${openStreams} open slow streams ${f(memory.openMb, 1)} MB (from ${f(memory.idleMb, 1)} MB) → ${f(memory.perStreamKb, 1)} KB per open stream; peak RSS over the whole bench (200-connection load) ${f(peak, 1)} MB`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  void sim;
  void bare;
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
  });
