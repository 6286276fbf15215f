import { createRequire } from 'node:module';
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';
import type { TokenEstimator } from '../../ports/token-estimator.js';

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
 * A {@link TokenEstimator} backed by `js-tiktoken`. The BPE ranks ship inside the package
 * (`js-tiktoken/ranks/*`, ~1–2 MB each) and are loaded synchronously on first use of each encoding: no
 * network, no I/O before the first estimate. Special-token markers in text are counted as plain text.
 *
 * @example
 * const estimator = createTiktokenTokenEstimator();
 * estimator.countText('Hello, world!', 'gpt-4o'); // → 4
 */
export function createTiktokenTokenEstimator(): TokenEstimator {
  const encoders = new Map<TiktokenEncodingName, Tiktoken>();
  const encoder = (name: TiktokenEncodingName): Tiktoken => {
    let e = encoders.get(name);
    if (e === undefined) {
      // The library and its ranks load on the first estimate (ADR 0006): most calls report their usage.
      const lite = require('js-tiktoken/lite') as { Tiktoken: typeof Tiktoken };
      const ranks = require(`js-tiktoken/ranks/${name}`) as { default: TiktokenBPE } | TiktokenBPE;
      e = new lite.Tiktoken('default' in ranks ? ranks.default : ranks);
      encoders.set(name, e);
    }
    return e;
  };
  return {
    countText(text, model) {
      if (text.length === 0) return 0;
      return encoder(encodingForModel(model)).encode(text, [], []).length;
    },
  };
}
