import { describe, expect, it } from 'vitest';
import { holdOptimisingCompiler } from './start-compiler.js';

function recorder(): { readonly flags: string[]; readonly setFlags: (flags: string) => void } {
  const flags: string[] = [];
  return { flags, setFlags: (flag) => void flags.push(flag) };
}

describe('holdOptimisingCompiler (ADR 0088)', () => {
  it('holds TurboFan off at once and turns it back on once, however often released', () => {
    const { flags, setFlags } = recorder();
    const options = { execArgv: ['--max-old-space-size=512'], nodeOptions: '', setFlags, maglevBuilt: false };
    const release = holdOptimisingCompiler(options);
    expect(flags).toEqual(['--no-turbofan']);
    release();
    release();
    expect(flags).toEqual(['--no-turbofan', '--turbofan']);
  });

  it.each([
    [['--no-turbofan'], undefined],
    [['--jitless'], undefined],
    [['--max-opt=2'], undefined],
    [['--no_opt'], undefined],
    [['--noopt'], undefined],
    [['--noturbofan'], undefined],
    [[], '--max-old-space-size=256 --jitless'],
  ])('leaves a compiler option the process was started with alone (%j, NODE_OPTIONS %j)', (execArgv, nodeOptions) => {
    const { flags, setFlags } = recorder();
    holdOptimisingCompiler({ execArgv, nodeOptions, setFlags, maglevBuilt: false })();
    expect(flags).toEqual([]);
  });

  it('holds nothing in a node built with Maglev (its code would not tier up after the hold)', () => {
    const { flags, setFlags } = recorder();
    holdOptimisingCompiler({ execArgv: [], nodeOptions: undefined, setFlags, maglevBuilt: true })();
    expect(flags).toEqual([]);
  });
});
