import type { AffinityStore } from '../../ports/affinity-store.js';
import type { Telemetry } from '../../ports/telemetry.js';
import type { RequestTarget } from '../routing/request-target.js';
import { StateIdSniffer } from '../routing/affinity.js';
import { emptyUsageReading, type UsageReading } from '../usage/usage-reading.js';

/** How a call touches a Responses API object: creates it, or reads it (a poll, a cancel). */
type ResponseCall = 'create' | 'read';

const READ = /^responses\/([^/]+)(?:\/cancel)?$/;

function responseCall(target: RequestTarget, method: string): { kind: ResponseCall; pathId?: string } | undefined {
  if (target.shape !== 'openai') return undefined;
  if (method === 'POST' && target.operation === 'responses') return { kind: 'create' };
  const read = READ.exec(target.operation);
  if (read === null) return undefined;
  const cancel = target.operation.endsWith('/cancel');
  if ((cancel && method === 'POST') || (!cancel && method === 'GET'))
    return { kind: 'read', pathId: decodeURIComponent(read[1]!) };
  return undefined;
}

const BACKGROUND = /"background"\s*:\s*true/;
const HEAD_CHARS = 8 * 1024;

/** The first 8 KiB of a Responses API object (or of its first event): its id, and whether it runs in the background. */
class ResponseHead {
  private readonly ids = new StateIdSniffer();
  private readonly decoder = new TextDecoder();
  private head = '';
  id: string | undefined;
  background = false;

  push(chunk: Uint8Array): void {
    this.id ??= this.ids.push(chunk);
    if (this.background || this.head.length >= HEAD_CHARS) return;
    this.head += this.decoder.decode(chunk.subarray(0, HEAD_CHARS - this.head.length), { stream: true });
    this.background = BACKGROUND.test(this.head);
  }
}

/** Dependencies of {@link billOnce}. */
export interface BillOnceDeps {
  readonly affinity: Pick<AffinityStore, 'claimOnce'>;
  readonly telemetry?: Pick<Telemetry, 'exception'> | undefined;
}

/** What {@link billOnce} answers for a Responses API call: a body observer, and the usage to bill. */
export interface ResponseBilling {
  /** Sees every chunk of the answer (reads the object's head). */
  observe(chunk: Uint8Array): void;
  /** The usage to bill for the metered `usage`: as metered, or nothing. */
  billable(usage: UsageReading): Promise<UsageReading>;
}

/**
 * A Responses API response is billed once — at its creation, or at its completion — never on its reads.
 * Answers `undefined` for any other call. For a response call:
 * - a response that does not run in the background is billed by its creation (the answer carries its
 *   usage); a read of it (`GET /v1/responses/{id}`, a cancel) bills nothing;
 * - a background response (`"background": true`, in the request or the object) is created with no usage,
 *   and completes while the caller polls: the first call through the gateway that sees its reported usage
 *   bills it — an atomic `claimOnce` of its id, shared by every instance — and every later one bills
 *   nothing. No estimate stands in for a background response's usage.
 *
 * @example
 * const once = billOnce(deps, routed.target, 'GET', routed.json, s.config.affinity.ttlMs);
 * const billed = await once?.billable(usage);
 */
export function billOnce(
  deps: BillOnceDeps,
  target: RequestTarget,
  method: string,
  json: Record<string, unknown> | undefined,
  ttlMs: number,
): ResponseBilling | undefined {
  const call = responseCall(target, method);
  if (call === undefined) return undefined;
  const head = new ResponseHead();
  return {
    observe: (chunk) => head.push(chunk),
    async billable(usage) {
      const nothing = emptyUsageReading(usage.servedModel);
      const background = head.background || json?.background === true;
      if (!background) return call.kind === 'create' ? usage : nothing;
      const id = head.id ?? call.pathId;
      if (usage.source === 'none' || usage.source === 'estimated' || usage.totalTokens === 0 || id === undefined)
        return nothing;
      try {
        return (await deps.affinity.claimOnce(id, ttlMs)) ? usage : nothing;
      } catch (error) {
        // The mark could not be read or written: bill (a possible second charge is visible; a lost one is not).
        deps.telemetry?.exception(error, { component: 'bill-once', responseId: id });
        return usage;
      }
    },
  };
}
