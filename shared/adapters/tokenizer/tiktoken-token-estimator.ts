import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TiktokenBPE } from 'js-tiktoken/lite';
import type { TokenEstimator } from '../../ports/token-estimator.js';
import { BpeCounter } from './bpe-counter.js';

/** The encodings this estimator uses. */
export type TiktokenEncodingName = 'o200k_base' | 'cl100k_base';

const require = createRequire(import.meta.url);

/**
 * The encoding for a model: `o200k_base` for the GPT-4o family and later OpenAI models (gpt-4o, gpt-4.1,
 * gpt-4.5, gpt-5, o1, o3, o4, chatgpt-4o, and Azure deployments named after them), `cl100k_base` otherwise
 * (GPT-4, GPT-3.5, embeddings, and as an approximation for non-OpenAI models).
 */
export function encodingForModel(model: string | undefined): TiktokenEncodingName {
  const m = (model ?? '').toLowerCase();
  if (/(^|[^a-z0-9])(gpt-?4o|gpt-?4\.1|gpt-?4\.5|gpt-?5|o1|o3|o4|chatgpt-4o|gpt-oss)/.test(m)) return 'o200k_base';
  return 'cl100k_base';
}

/**
 * A {@link TokenEstimator} with `js-tiktoken`'s encodings. The BPE ranks ship inside the package
 * (`js-tiktoken/ranks/*`, ~1–2 MB each) and are loaded synchronously on first use of each encoding: no
 * network, no I/O before the first estimate. They are counted with {@link BpeCounter} (the same counts as
 * js-tiktoken's encoder, in a sixth of its memory; ADR 0085). Special-token markers in text are counted as plain
 * text.
 *
 * @example
 * const estimator = createTiktokenTokenEstimator();
 * estimator.countText('Hello, world!', 'gpt-4o'); // → 4
 */
export function createTiktokenTokenEstimator(): TokenEstimator {
  const counters = new Map<TiktokenEncodingName, BpeCounter>();
  const counter = (name: TiktokenEncodingName): BpeCounter => {
    let c = counters.get(name);
    if (c === undefined) {
      // The ranks load on the first estimate (ADR 0006): most calls report their usage.
      c = new BpeCounter(loadRanks(name));
      counters.set(name, c);
    }
    return c;
  };
  return {
    countText(text, model) {
      if (text.length === 0) return 0;
      return counter(encodingForModel(model)).count(text);
    },
  };
}

/**
 * An encoding's ranks, read as data: the module is `module.exports = {…JSON…};`, and parsing its object leaves
 * nothing behind once the counter has its table, where `require` kept the 1–2.3 MB ranks string for the process's
 * life (an internalised literal of the compiled module; 2.3 MB of heap measured for `o200k_base`, ADR 0085). Any
 * other shape of the file is loaded with `require` as before.
 */
function loadRanks(name: TiktokenEncodingName): TiktokenBPE {
  const path = require.resolve(`js-tiktoken/ranks/${name}`);
  const source = readFileSync(path, 'utf8');
  try {
    const ranks = JSON.parse(source.slice(source.indexOf('{'), source.lastIndexOf('}') + 1)) as Partial<TiktokenBPE>;
    if (typeof ranks.pat_str === 'string' && typeof ranks.bpe_ranks === 'string') return ranks as TiktokenBPE;
  } catch {
    // Not the shape this reads: the module itself below.
  }
  const ranks = require(path) as { default: TiktokenBPE } | TiktokenBPE;
  return 'default' in ranks ? ranks.default : ranks;
}
