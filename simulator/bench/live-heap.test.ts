import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { connectLiveHeap } from './live-heap.js';
import { freePort } from './processes.js';

/** A process that, on a line of stdin, makes 1,000,000 objects of garbage or keeps them, and says when it has. */
const CHILD = `const kept = [];
const make = () => Array.from({ length: 1_000_000 }, (_, i) => ({ i }));
process.stdin.setEncoding('utf8').on('data', (line) => {
  if (line.startsWith('garbage')) make();
  else kept.push(make());
  process.stdout.write('done\\n');
});
process.stdout.write('ready\\n');`;

describe('connectLiveHeap (the bench reading live memory)', () => {
  it('counts what a process keeps and not the garbage it leaves', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [`--inspect=127.0.0.1:${port}`, '-e', CHILD], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const next = (): Promise<void> =>
      new Promise((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', () => reject(new Error('the child ended')));
      });
    const heap = await next().then(() => connectLiveHeap(port, child.pid!));
    try {
      const base = await heap!.liveMb();
      const done = next();
      child.stdin.write('garbage\n');
      await done;
      const afterGarbage = await heap!.liveMb();
      const kept = next();
      child.stdin.write('keep\n');
      await kept;
      const afterKeep = await heap!.liveMb();
      expect(afterGarbage - base).toBeLessThan(4); // ~30 MB of objects made and dropped
      expect(afterKeep - base).toBeGreaterThan(15); // the same kept
    } finally {
      heap?.close();
      child.kill();
    }
  });

  it("refuses an inspector that is not the named process's", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [`--inspect=127.0.0.1:${port}`, '-e', CHILD], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      expect(await connectLiveHeap(port, child.pid! + 1)).toBeUndefined();
    } finally {
      child.kill();
    }
  });
});
