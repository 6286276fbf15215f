import { describe, expect, it } from 'vitest';
import { parseCliArgs } from './cli-args.js';

describe('parseCliArgs', () => {
  it('reads every option, in both --k v and --k=v forms', () => {
    expect(
      parseCliArgs([
        '--port',
        '9001',
        '--name=a',
        '--host',
        '0.0.0.0',
        '--latency-ms',
        '20',
        '--first-token-ms=5',
        '--tps',
        '50',
        '--completion-tokens',
        '32',
        '--dims',
        '4',
        '--served-model',
        'gpt-4o-2024',
        '--api-key',
        'k',
        '--fault',
        '503;times=2',
        '--fault=429;from-ms=0',
        '--no-record',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        port: 9001,
        name: 'a',
        host: '0.0.0.0',
        latencyMs: 20,
        firstTokenDelayMs: 5,
        tokensPerSecond: 50,
        defaultCompletionTokens: 32,
        embeddingDimensions: 4,
        servedModel: 'gpt-4o-2024',
        apiKey: 'k',
        faults: ['503;times=2', '429;from-ms=0'],
        recordAttempts: false,
      },
    });
  });

  it('answers help', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it.each([[['--bogus']], [['--port']], [['--port', 'x']], [['--port', '-1']]])('rejects %j', (argv) => {
    expect(() => parseCliArgs(argv)).toThrow();
  });
});
