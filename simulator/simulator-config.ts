import { parseFaultSpec } from './fault-grammar.js';
import { FaultSpecError, normalizeFaultSpec, type FaultSpec } from './fault-spec.js';

/**
 * The part of a simulator's behaviour that can be replaced at runtime (`configure()`,
 * `POST /_sim/config`). Fields left out fall back to the start options.
 *
 * Compatibility note: the JSON body of `POST /_sim/config`; fields are only ever added.
 */
export interface SimulatorConfig {
  /** Instance fault rules, in the text grammar or object form; the first rule that holds applies. */
  faults?: ReadonlyArray<string | FaultSpec>;
  /**
   * When set, requests must present it (`api-key`, `authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `?key=`),
   * else 401.
   */
  apiKey?: string | null;
  /** Delay before response headers (default 0). */
  latencyMs?: number;
  /** Delay between the headers and the first body byte of a stream (default 0). */
  firstTokenDelayMs?: number;
  /** Streamed token pace; 0 = back-to-back (default 0). */
  tokensPerSecond?: number;
  /** Visible completion tokens when nothing else says (default 16). */
  defaultCompletionTokens?: number;
  /** Embedding dimension when the request does not ask (default 8). */
  embeddingDimensions?: number;
  /** Report this model instead of the requested one. */
  servedModel?: string | null;
  /**
   * Continue a final assistant message (chat completions): the answer picks up after the words of the prefill
   * instead of starting again — what Anthropic-compatible and prefix-capable servers do (default false: the
   * prefill is read as context and a new answer starts, as OpenAI does).
   */
  continuePrefill?: boolean;
}

/** Compiles fault rules from either form. @throws {FaultSpecError} naming the rule's position. */
export function compileFaults(faults: ReadonlyArray<string | FaultSpec> | undefined): FaultSpec[] {
  if (!faults) return [];
  return faults.map((rule, index) => {
    try {
      return typeof rule === 'string' ? parseFaultSpec(rule) : normalizeFaultSpec(rule);
    } catch (error) {
      throw new FaultSpecError(`faults[${index}]: ${(error as Error).message}`);
    }
  });
}

const NUMBER_LIMITS: Readonly<Record<string, [min: number, max: number]>> = {
  latencyMs: [0, 86_400_000],
  firstTokenDelayMs: [0, 86_400_000],
  tokensPerSecond: [0, 1_000_000],
  defaultCompletionTokens: [0, 100_000],
  embeddingDimensions: [1, 4096],
};

/**
 * Validates a config received as JSON. Every problem is reported at once.
 *
 * @throws {FaultSpecError} listing every problem.
 * @example parseSimulatorConfig({ faults: ['503;times=2'], latencyMs: 20 })
 */
export function parseSimulatorConfig(value: unknown): SimulatorConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new FaultSpecError('config must be a JSON object');
  const problems: string[] = [];
  const config: SimulatorConfig = {};
  const target = config as Record<string, unknown>;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const limits = NUMBER_LIMITS[key];
    if (limits) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < limits[0] || v > limits[1])
        problems.push(`${key}: expected a number in ${limits[0]}..${limits[1]}`);
      else target[key] = v;
    } else if (key === 'apiKey' || key === 'servedModel') {
      if (v !== null && (typeof v !== 'string' || v === '')) problems.push(`${key}: expected a non-empty text or null`);
      else target[key] = v;
    } else if (key === 'continuePrefill') {
      if (typeof v !== 'boolean') problems.push('continuePrefill: expected true or false');
      else config.continuePrefill = v;
    } else if (key === 'faults') {
      if (!Array.isArray(v)) {
        problems.push('faults: expected an array');
        continue;
      }
      try {
        compileFaults(v as (string | FaultSpec)[]);
        config.faults = v as (string | FaultSpec)[];
      } catch (error) {
        problems.push((error as Error).message);
      }
    } else {
      problems.push(`unknown key ${JSON.stringify(key)}`);
    }
  }
  if (problems.length > 0) throw new FaultSpecError(problems.join('; '));
  return config;
}
