import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One kind of call the load rows put on every side, at each of its connection counts. */
export interface Scenario {
  readonly name: string;
  readonly bodyFile: string;
  readonly headers: readonly string[];
  readonly levels: readonly number[];
}

/** The bench's three kinds of call. */
export interface Scenarios {
  readonly chat: Scenario;
  readonly stream: Scenario;
  readonly longStream: Scenario;
}

/** 50 paced streams already mean 50,000 chunks a second through the gateway; 200 would measure the simulator. */
const LONG_STREAM_CONNECTIONS = 50;

/** Writes the request bodies into `dir` and returns the scenarios at the given connection counts. */
export function writeScenarios(dir: string, levels: readonly number[]): Scenarios {
  const messages = [{ role: 'user', content: 'Summarise the benefits of a gateway in one paragraph.' }];
  const file = (name: string, body: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  const chatFile = file('chat.json', { model: 'gpt-4o-mini', messages });
  const streamFile = file('chat-stream.json', { model: 'gpt-4o-mini', stream: true, messages });
  return {
    chat: { name: 'chat', bodyFile: chatFile, headers: [], levels },
    stream: { name: 'stream, 16 tokens in one read', bodyFile: streamFile, headers: [], levels },
    longStream: {
      name: 'stream, 300 tokens in 300 reads',
      bodyFile: streamFile,
      // A token a millisecond, each in its own write: 300 ms per stream, ~300 reads for the gateway. Paced, so
      // its rps is the pace's; the gateway's CPU per stream is what shows what metering costs on it.
      headers: ['x-sim-fault: tokens=300;tps=1000'],
      levels: [...new Set([Math.min(...levels), Math.min(LONG_STREAM_CONNECTIONS, Math.max(...levels))])],
    },
  };
}
