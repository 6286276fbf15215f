import { describe, expect, it } from 'vitest';
import { ResponseBody, type BodyFlow, type BodyOwner } from './response-body.js';

/** undici's controller as the body sees it, recording what the body asked of it. */
class RecordingFlow implements BodyFlow, BodyOwner {
  readonly calls: string[] = [];
  settled = 0;
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
  abort(reason: Error): void {
    this.calls.push(`abort:${reason.constructor.name}`);
  }
  bodySettled(): void {
    this.settled += 1;
  }
}

function setup(declaredBytes = NaN): { body: ResponseBody; flow: RecordingFlow } {
  const flow = new RecordingFlow();
  return { body: new ResponseBody(flow, flow, declaredBytes), flow };
}

const bytes = (text: string): Buffer => Buffer.from(text);
const text = (result: IteratorResult<Uint8Array>): string => Buffer.from(result.value as Uint8Array).toString();

describe('a backend response body read as an async iterable', () => {
  it('hands a waiting reader every chunk one socket read brings, as one piece', async () => {
    const { body } = setup();
    const read = body.next();
    body.push(bytes('data: 1\n\n'));
    body.push(bytes('data: 2\n\n'));
    body.push(bytes('data: 3\n\n'));
    expect(text(await read)).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    body.end();
    expect(await body.next()).toEqual({ value: undefined, done: true });
  });

  it('keeps what arrived before the end readable after it, then ends once', async () => {
    const { body, flow } = setup();
    body.push(bytes('a'));
    body.push(bytes('b'));
    body.end();
    expect(text(await body.next())).toBe('ab');
    expect((await body.next()).done).toBe(true);
    expect((await body.next()).done).toBe(true);
    expect(flow.settled).toBe(1);
  });

  it('pauses the socket past 64 KiB unread and resumes it when the reader takes them', async () => {
    const { body, flow } = setup();
    body.push(Buffer.alloc(40 * 1024));
    expect(flow.calls).toEqual([]);
    body.push(Buffer.alloc(30 * 1024));
    expect(flow.calls).toEqual(['pause']);
    expect((await body.next()).value?.byteLength).toBe(70 * 1024);
    expect(flow.calls).toEqual(['pause', 'resume']);
  });

  it('drops the unread bytes on an error and throws it once, then ends', async () => {
    const { body, flow } = setup();
    body.push(bytes('unread'));
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    body.fail(reset);
    await expect(body.next()).rejects.toBe(reset);
    expect((await body.next()).done).toBe(true);
    expect(flow.settled).toBe(1);
  });

  it('rejects a waiting reader with the error at once', async () => {
    const { body } = setup();
    const read = body.next();
    const timeout = new Error('body timeout');
    body.fail(timeout);
    await expect(read).rejects.toBe(timeout);
  });

  it('aborts the exchange when the reader stops before the end, not after it', async () => {
    const early = setup();
    early.body.push(bytes('x'));
    expect(await early.body.return()).toEqual({ value: undefined, done: true });
    expect(early.flow.calls).toEqual(['abort:RequestAbortedError']);
    expect((await early.body.next()).done).toBe(true);

    const late = setup();
    late.body.push(bytes('x'));
    late.body.end();
    await late.body.return();
    expect(late.flow.calls).toEqual([]);
    expect(late.flow.settled).toBe(1);
  });

  it('dumps a short body to its end, keeping the socket, and resolves then', async () => {
    const { body, flow } = setup(1010);
    body.push(Buffer.alloc(1000)); // held unread
    let done = false;
    const dumped = body.dump().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    body.push(Buffer.alloc(10));
    body.end();
    await dumped;
    expect(flow.calls).toEqual([]);
    expect(flow.settled).toBe(1);
  });

  it('cuts a dumped body declared longer than 64 KiB at once, and one that grows past it', async () => {
    const declared = setup(64 * 1024 + 1);
    await declared.body.dump();
    expect(declared.flow.calls).toEqual(['abort:RequestAbortedError']);

    const growing = setup();
    const dumped = growing.body.dump();
    growing.body.push(Buffer.alloc(64 * 1024));
    expect(growing.flow.calls).toEqual([]);
    growing.body.push(Buffer.alloc(1));
    await dumped;
    expect(growing.flow.calls).toEqual(['abort:RequestAbortedError']);
  });

  it('is read by one reader at a time', async () => {
    const { body } = setup();
    const first = body.next();
    await expect(body.next()).rejects.toThrow('one reader');
    body.push(bytes('ok'));
    expect(text(await first)).toBe('ok');
  });
});
