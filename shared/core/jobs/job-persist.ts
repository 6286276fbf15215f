import type { JobOwner, JobRecord } from '../../ports/job-store.js';
import { ASYNC_OPT_IN_HEADERS } from './async-opt-in.js';
import { createJobId, jobPayloadKey } from './job-ids.js';
import { encodeJobRequest, JOB_REQUEST_CONTENT_TYPE } from './job-request-codec.js';
import type { JobServiceContext } from './job-service-context.js';
import type { JobSubmission } from './job-service.js';
import type { QueuedBodyHold } from './queued-body-budget.js';

/**
 * Stores a submission's request (headers without the async opt-in, the body streamed through `hold`, which
 * refuses bytes past the queued-body bound) and creates its job, `queued`, with the run deadline and the
 * result retention in force now.
 *
 * @example
 * const job = await persistJob(ctx, submission, hold);
 */
export async function persistJob(
  ctx: JobServiceContext,
  submission: JobSubmission,
  hold: QueuedBodyHold | undefined,
): Promise<JobRecord> {
  const now = ctx.clock.now();
  const id = createJobId();
  const owner = ownerOf(submission.caller);
  const headers: Record<string, string> = {};
  submission.request.headers.forEach((value, name) => {
    if (!ASYNC_OPT_IN_HEADERS.includes(name)) headers[name] = value;
  });
  const body = submission.request.body;
  if (body instanceof Uint8Array) hold?.grow(body.byteLength);
  const bodyStream = body instanceof Uint8Array ? once(body) : body === null ? null : counted(body, hold);
  const { method, path } = submission.request;
  await ctx.payloads.put(
    jobPayloadKey(owner, id, 'request'),
    encodeJobRequest({ v: 1, method, path, headers }, bodyStream),
    { contentType: JOB_REQUEST_CONTENT_TYPE, attributes: { jobId: id, requestId: submission.requestId } },
  );
  const settings = ctx.settingsNow();
  const runDeadlineMs = submission.runDeadlineMs ?? settings.runDeadlineMs ?? 1_800_000;
  const retentionMs = submission.retentionMs ?? settings.retentionMs ?? 86_400_000;
  return ctx.jobs.create({
    id,
    requestId: submission.requestId,
    owner,
    status: 'queued',
    createdAtMs: now,
    updatedAtMs: now,
    // Until the job finishes this is only a backstop for the sweep; finishing resets it to finish + retention.
    expiresAtMs: now + runDeadlineMs + retentionMs,
    deadlineMs: now + runDeadlineMs,
    attempts: 0,
    routeId: submission.routeId,
    ...(submission.model === undefined ? {} : { model: submission.model }),
    priority: submission.priority,
    retentionMs,
    version: 0,
  });
}

function ownerOf(caller: JobSubmission['caller']): JobOwner {
  return {
    userId: caller.userId,
    ...(caller.profileId === undefined ? {} : { profileId: caller.profileId }),
    ...(caller.appId === undefined ? {} : { appId: caller.appId }),
    ...(caller.keyId === undefined ? {} : { keyId: caller.keyId }),
  };
}

/**
 * One chunk as a body.
 *
 * @example
 * const body = once(new TextEncoder().encode('{}'));
 */
export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** A streamed body whose bytes are taken from `hold` as they pass (it throws 429 past the bound). */
async function* counted(body: AsyncIterable<Uint8Array>, hold: QueuedBodyHold | undefined): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    hold?.grow(chunk.byteLength);
    yield chunk;
  }
}
