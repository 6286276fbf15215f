import { WebSocket } from 'undici';

/**
 * Reads a process's live memory through its inspector (the bench's slow-stream gateway, started with `--inspect`
 * on loopback): one full collection, then V8's heap in use plus the memory of `ArrayBuffer`s and other external
 * objects — what the process still holds, without the garbage an RSS reading cannot tell from it (ADR 0071,
 * session 8).
 */
export interface LiveHeapReader {
  /** MB live after a full collection (`process.memoryUsage()`'s `heapUsed + external`). */
  liveMb(): Promise<number>;
  close(): void;
}

/** One inspector call's bound: a process that does not answer fails the reading, it does not stall the bench. */
const CALL_TIMEOUT_MS = 30_000;
const LIVE_BYTES = '(() => { const m = process.memoryUsage(); return m.heapUsed + m.external; })()';

/**
 * Connects to the inspector listening on `127.0.0.1:port`, and checks that it is process `pid`'s (the port was
 * free when chosen; another process's inspector could have taken it since). undici's `WebSocket`: Node 20 has no
 * global one. `undefined` where it cannot connect: the bench then reports RSS only, says why, and misses the bar.
 */
export async function connectLiveHeap(port: number, pid: number): Promise<LiveHeapReader | undefined> {
  try {
    return await connect(port, pid);
  } catch (error) {
    // The bench's figures stand without this one: it reports RSS only and says why here.
    process.stderr.write(`bench: the slow-stream gateway's inspector could not be read: ${String(error)}\n`);
    return undefined;
  }
}

async function connect(port: number, pid: number): Promise<LiveHeapReader> {
  const listed = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
  const targets = (await listed.json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`the inspector on port ${port} lists no target`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      socket.close();
      reject(new Error(reason));
    };
    const timer = setTimeout(
      () => fail(`the inspector at ${url} did not open within ${CALL_TIMEOUT_MS} ms`),
      CALL_TIMEOUT_MS,
    );
    socket.addEventListener('error', () => fail(`cannot connect to the inspector at ${url}`), { once: true });
    socket.addEventListener(
      'open',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
  const call = inspectorCalls(socket);
  const owner = (await call('Runtime.evaluate', { expression: 'process.pid', returnByValue: true })) as {
    result: { value: number };
  };
  if (owner.result.value !== pid) {
    socket.close();
    throw new Error(`the inspector on port ${port} is process ${owner.result.value}'s, not ${pid}'s`);
  }
  return {
    async liveMb() {
      await call('HeapProfiler.collectGarbage');
      const answer = (await call('Runtime.evaluate', { expression: LIVE_BYTES, returnByValue: true })) as {
        result: { value: number };
      };
      return answer.result.value / (1024 * 1024);
    },
    close: () => socket.close(),
  };
}

type InspectorCall = (method: string, params?: object) => Promise<unknown>;

/** Request and answer over the inspector protocol: each call an id, its answer matched by it. */
function inspectorCalls(socket: WebSocket): InspectorCall {
  let lastId = 0;
  const pending = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
  socket.addEventListener('message', (event: { data: unknown }) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return; // an event, not an answer
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  return (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++lastId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the inspector did not answer ${method} within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      pending.set(id, (message) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
}
