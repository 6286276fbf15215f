import type { Dispatcher } from 'undici';
import { errors } from './undici-parts.js';
import type { BackendResponse, TransportErrorKind } from '../../ports/backend-transport.js';
import { ResponseBody, type BodyOwner } from './response-body.js';
import { toTransportError } from './transport-error.js';

const ONCE = Object.freeze({ once: true });

/**
 * One attempt on undici's `dispatch` API (its controller handler, undici ≥ 7), in place of `request()`: no
 * `AsyncResource`, no Node stream for the body and no stream iterator over it. It settles `response` when the
 * status and headers arrive (rejects with a classified `TransportError` before that), feeds the body, and maps
 * the attempt's abort signal onto undici's abort the way `request()` does: before the socket is assigned the
 * reason is kept and used at once when it is; after the headers the body fails with the reason.
 */
export class DispatchExchange implements Dispatcher.DispatchHandler, BodyOwner {
  readonly response: Promise<BackendResponse>;
  private resolve!: (response: BackendResponse) => void;
  private reject!: (error: unknown) => void;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private body: ResponseBody | undefined = undefined;
  private abortReason: Error | undefined = undefined;

  constructor(private readonly signal: AbortSignal) {
    this.response = new Promise<BackendResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // The exchange is its own listener (`handleEvent`): no closure per attempt.
    signal.addEventListener('abort', this, ONCE);
  }

  /** The signal's abort. */
  handleEvent(): void {
    const reason = (this.signal.reason as Error | undefined) ?? new errors.RequestAbortedError();
    if (this.body !== undefined) {
      this.body.fail(reason);
      this.controller?.abort(reason);
    } else if (this.controller !== undefined) this.controller.abort(reason);
    else this.abortReason = reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== undefined) controller.abort(this.abortReason);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: informational, the answer follows
    const length = headers['content-length'];
    const body = new ResponseBody(controller, this, typeof length === 'string' ? Number(length) : NaN);
    this.body = body;
    this.resolve(new UndiciResponse(statusCode, headers, body));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body!.push(chunk);
  }

  onResponseEnd(): void {
    this.body!.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.body !== undefined) return this.body.fail(error);
    this.bodySettled();
    this.reject(toTransportError(error));
  }

  /** Nothing more can come of the attempt: the signal no longer matters to it. */
  bodySettled(): void {
    this.signal.removeEventListener('abort', this);
  }
}

/**
 * The answer: status, headers (undici's, lower-cased names, repeats as arrays) and the body. `errorKind` and
 * `dump` are own properties, not prototype methods: the engine copies answers with a spread (`{ ...response,
 * body }`), which keeps own properties only.
 */
class UndiciResponse implements BackendResponse {
  readonly errorKind = errorKindOf;
  readonly dump: () => Promise<void>;

  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: ResponseBody,
  ) {
    this.dump = () => body.dump();
  }
}

function errorKindOf(error: unknown): TransportErrorKind {
  return toTransportError(error).kind;
}
