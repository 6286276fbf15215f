import { AnswerHeaders } from '../http/answer-headers.js';
import { errorResponse } from '../errors/error-envelope.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayRequest, GatewayResponse } from '../http/gateway-request.js';
import type { JobRequester } from './job-access.js';
import { JOB_ID_PATTERN } from './job-ids.js';
import { jobToJson } from './job-json.js';
import type { JobService } from './job-service.js';

/** The engine-level job API. */
export interface JobsApi {
  /**
   * Answers `GET {base}/{id}` (job JSON), `GET {base}/{id}/result` (the stored response, streamed) and
   * `DELETE {base}/{id}` (cancel; answers the job JSON). Resolves `undefined` when the path is not a
   * job path, so the pipeline carries on. Never throws: errors become the error envelope.
   */
  handle(
    request: GatewayRequest,
    context: { readonly requester: JobRequester; readonly requestId: string },
  ): Promise<GatewayResponse | undefined>;
  /** Whether `pathname` is under the job API (lets the pipeline skip routing for it). */
  matches(pathname: string): boolean;
}

/**
 * Builds the job API over a {@link JobService}. Web-standard in and out, so both hosts mount it: the
 * pipeline admits the caller (identity, suspension) and then calls `handle` with `admission.caller` (or an
 * admin principal) as the requester.
 *
 * @example
 * const api = createJobsApi(service);
 * const answer = await api.handle(request, { requester: admission.caller, requestId });
 * if (answer !== undefined) return answer;
 */
export function createJobsApi(service: JobService, options: { readonly basePath?: string } = {}): JobsApi {
  const basePath = (options.basePath ?? '/jobs').replace(/\/+$/, '');
  const matches = (pathname: string): boolean => pathname === basePath || pathname.startsWith(`${basePath}/`);

  function json(status: number, value: unknown, requestId: string): GatewayResponse {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    const headers = new AnswerHeaders({
      'content-type': 'application/json',
      'content-length': String(bytes.byteLength),
      'x-gateway-request-id': requestId,
      'cache-control': 'no-store',
    });
    return { status, headers, body: single(bytes) };
  }

  return {
    matches,
    async handle(request, { requester, requestId }) {
      const { pathname } = new URL(request.url);
      if (!matches(pathname)) return undefined;
      try {
        const rest = pathname.slice(basePath.length + 1).replace(/\/+$/, '');
        const [id, sub, ...extra] = rest.split('/');
        if (
          id === undefined ||
          !JOB_ID_PATTERN.test(id) ||
          extra.length > 0 ||
          (sub !== undefined && sub !== 'result')
        ) {
          throw new GatewayError('GW_ERR_JOB_NOT_FOUND');
        }
        const method = request.method.toUpperCase();
        if (sub === 'result') {
          if (method !== 'GET' && method !== 'HEAD')
            throw new GatewayError('GW_ERR_REQUEST_METHOD_NOT_ALLOWED', { details: { allow: 'GET, HEAD' } });
          const result = await service.result(id, requester, requestId);
          if (method === 'HEAD') {
            await result.body?.[Symbol.asyncIterator]().return?.();
            return { ...result, body: null };
          }
          return result;
        }
        if (method === 'GET' || method === 'HEAD') {
          const answer = json(200, jobToJson(await service.status(id, requester), basePath), requestId);
          return method === 'HEAD' ? { ...answer, body: null } : answer;
        }
        if (method === 'DELETE') return json(200, jobToJson(await service.cancel(id, requester), basePath), requestId);
        throw new GatewayError('GW_ERR_REQUEST_METHOD_NOT_ALLOWED', { details: { allow: 'GET, HEAD, DELETE' } });
      } catch (error) {
        return errorResponse(error, requestId);
      }
    },
  };
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
