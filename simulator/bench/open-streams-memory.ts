import { Agent, request as httpRequest } from 'node:http';
import type { LiveHeapReader } from './live-heap.js';
import { perStreamTrend, type MemorySample, type PerStreamTrend } from './memory-trend.js';
import { rssMb } from './process-stats.js';
import { isOpenStream } from './stream-probes.js';

/** RSS of the gateway with `count` slow streams open through it. */
export interface OpenStreamsMemory {
  readonly requested: number;
  /** Streams open at once at the first reading: 200 `text/event-stream`, a first chunk, not ended. Only they count. */
  readonly opened: number;
  /** Streams that got no answer, or one that was not a stream. */
  readonly failed: number;
  /** Streams neither open nor failed at the first reading: still waiting for a connection or a first chunk. */
  readonly waiting: number;
  /**
   * Streams that opened and then ended before the bench cut them: a slow stream outlasts the test, so these were
   * ended by the gateway mid-way — failures, not a smaller denominator.
   */
  readonly endedEarly: number;
  readonly idleMb: number;
  /** One reading a second while the streams stay open, the first 1 s after the wait for them to open ended. */
  readonly samples: readonly MemorySample[];
  /** Memory per open stream over the readings, and whether it is level. */
  readonly trend: PerStreamTrend;
  /**
   * Live memory (V8 heap in use + external, after a full collection; ADR 0071, session 8), read once a second after
   * the RSS readings, while the same streams stay open — `undefined` where the gateway's inspector could not be read.
   * `rssMb` of these samples is the live figure; `atS` the seconds since the streams opened.
   */
  readonly live?: {
    readonly idleMb: number;
    readonly samples: readonly MemorySample[];
    readonly trend: PerStreamTrend;
  };
}

/** Readings, one a second from 1 s after the streams opened. */
const READINGS = 8;
/** The wait for streams to open ends when, after the first, none opened or failed for this long (a connection cap). */
const STALL_MS = 3_000;
const OPEN_MS = 30_000;
/**
 * 10 tokens a second, far more tokens than the test lasts: every stream stays open through every reading (the
 * probe cuts them after the last), however long the opening took. With 100 tokens the first streams ended while
 * the last were still opening, and the readings counted streams that were gone.
 */
const SLOW_FAULT = 'tps=10;tokens=1000';
/** Memory per stream is judged on its growth while a stream relays 100 tokens (at 10 a second). */
const SECONDS_PER_100_TOKENS = 10;

/**
 * Opens `count` slow streams through the gateway and reads its RSS once a second while they are open. Memory per
 * stream is (RSS − idle) ÷ the streams open at that reading; a line fitted through the readings judges whether it
 * stays level while the streams relay their tokens ({@link perStreamTrend}). With a `heap` reader, the same again
 * for live memory, once a second after the RSS readings (each reading forces a full collection in the gateway).
 */
export async function memoryWithOpenStreams(
  url: string,
  pid: number,
  count: number,
  heap?: LiveHeapReader,
): Promise<OpenStreamsMemory> {
  // Before the streams: the collection it forces is over before the first RSS reading's second begins. Idle RSS is
  // read after it, so that the RSS per stream is not lowered by pages that collection gave back (review of 3a297d2).
  const idleLiveMb = await heap?.liveMb().catch((error: unknown) => {
    process.stderr.write(`bench: live memory of the slow streams not read: ${String(error)}\n`);
    return undefined;
  });
  const idleMb = rssMb(pid).rssMb;
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'long' }] });
  const tally = { opened: 0, ended: 0, failed: 0, changedAt: performance.now() };
  const streams = Array.from({ length: count }, () => openSlowStream(url, body, agent, tally));
  await untilOpened(tally, count);
  const openedAt = performance.now();
  const samples: MemorySample[] = [];
  let waiting = 0;
  for (let i = 1; i <= READINGS; i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    samples.push({ atS: i, rssMb: rssMb(pid).rssMb, open: tally.opened - tally.ended });
    if (i === 1) waiting = count - tally.opened - tally.failed;
  }
  // After the RSS readings, so that none of them follows a collection forced here.
  const liveSamples = heap === undefined ? [] : await liveReadings(heap, tally, openedAt);
  // Counted before the cut: streams cut while still waiting are not failures, streams ended before it are.
  const { failed, ended: endedEarly } = tally;
  for (const stream of streams) stream.cut();
  await Promise.all(streams.map((s) => s.closed));
  agent.destroy();
  return {
    requested: count,
    opened: samples[0]!.open,
    failed,
    waiting,
    endedEarly,
    idleMb,
    samples,
    trend: perStreamTrend(idleMb, samples, SECONDS_PER_100_TOKENS),
    ...(idleLiveMb === undefined || liveSamples.length < READINGS
      ? {}
      : {
          live: {
            idleMb: idleLiveMb,
            samples: liveSamples,
            trend: perStreamTrend(idleLiveMb, liveSamples, SECONDS_PER_100_TOKENS),
          },
        }),
  };
}

/** Live memory once a second, {@link READINGS} times; none if the inspector stops answering (said on stderr). */
async function liveReadings(heap: LiveHeapReader, tally: Tally, openedAt: number): Promise<MemorySample[]> {
  const samples: MemorySample[] = [];
  try {
    for (let i = 1; i <= READINGS; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      const open = tally.opened - tally.ended;
      const liveMb = await heap.liveMb();
      samples.push({ atS: Math.round((performance.now() - openedAt) / 100) / 10, rssMb: liveMb, open });
    }
  } catch (error) {
    process.stderr.write(`bench: live memory of the slow streams not read: ${String(error)}\n`);
    return [];
  }
  return samples;
}

interface Tally {
  opened: number;
  ended: number;
  failed: number;
  changedAt: number;
}

/** Resolves once every stream opened or failed, or none did for {@link STALL_MS}, or after {@link OPEN_MS}. */
async function untilOpened(tally: Tally, count: number): Promise<void> {
  const started = performance.now();
  for (;;) {
    const now = performance.now();
    const settled = tally.opened + tally.failed >= count;
    // The stall counts from the first stream that opened or failed: the first can take seconds on a loaded machine.
    const stalled = tally.opened + tally.failed > 0 && now - tally.changedAt >= STALL_MS;
    if (settled || stalled || now - started >= OPEN_MS) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One slow stream, counted in `tally` when it opens, fails or ends; `cut` ends it from this side. */
function openSlowStream(url: string, body: string, agent: Agent, tally: Tally): { cut(): void; closed: Promise<void> } {
  let state: 'waiting' | 'open' | 'done' = 'waiting';
  const settle = (): void => {
    if (state === 'open') tally.ended += 1;
    else if (state === 'waiting') tally.failed += 1;
    state = 'done';
    tally.changedAt = performance.now();
  };
  const headers = { 'content-type': 'application/json', 'x-sim-fault': SLOW_FAULT };
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const end = (): void => {
    if (state !== 'done') settle();
    onClosed();
  };
  const req = httpRequest(url, { method: 'POST', agent, headers }, (res) => {
    // A response is over when it closes: at its end, cut by the gateway, or cut by this side.
    res.on('close', end);
    res.on('error', () => undefined);
    if (!isOpenStream(res)) return void res.resume();
    res.on('data', () => {
      if (state !== 'waiting') return;
      state = 'open';
      tally.opened += 1;
      tally.changedAt = performance.now();
    });
  });
  // No response at all: refused, reset, or cut by this side before the gateway answered.
  req.on('error', end);
  req.end(body);
  return { cut: () => void req.destroy(), closed };
}
