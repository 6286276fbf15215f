import { errorRegistry, type ErrorCode } from './error-registry.js';

/**
 * An error the gateway answers with: a registry code, an optional specific message, an optional
 * `retry-after` and extra detail for the envelope. Throw it anywhere in `shared/core`; the pipeline
 * turns it into the error envelope.
 *
 * @example
 * throw new GatewayError('GW_ERR_REQUEST_BODY_TOO_LARGE', { message: 'Body exceeds 4194304 bytes.' });
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly param: string | undefined;
  /** Extra JSON fields added to the envelope's `error` object (e.g. the attempts of an exhausted call). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    options: {
      message?: string;
      retryAfterMs?: number;
      param?: string;
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(
      options.message ?? errorRegistry[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'GatewayError';
    this.code = code;
    this.status = errorRegistry[code].status;
    this.retryAfterMs = options.retryAfterMs;
    this.param = options.param;
    this.details = options.details;
  }
}
