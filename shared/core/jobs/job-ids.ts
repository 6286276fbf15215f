import { createHash, randomBytes } from 'node:crypto';
import type { JobOwner } from '../../ports/job-store.js';

/** The shape of a job id: 22 base64url characters (128 random bits). */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * A new unguessable job id: 128 random bits, base64url (22 characters). Knowing one id tells nothing
 * about another, and the job API answers 404 to anyone but the owner, so ids do not leak jobs.
 *
 * @example
 * const id = createJobId(); // 'Yx3r0Vb2cT8nS1qLw7dG5A'
 */
export function createJobId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The payload-store key of a job's stored request (`{ownerKey}/{jobId}/request`) or of one attempt's
 * response (`{ownerKey}/{jobId}/response/{attempt}`), where `ownerKey` is `u-` + the first 128 bits of
 * SHA-256(userId), base64url — path-safe whatever the user id holds, and the same for all of a user's
 * jobs (so an operator can find or erase them). Responses are per attempt so that a worker presumed
 * dead, still streaming, can never overwrite the result of the attempt that took over; the result of a
 * `succeeded` job is the response of attempt `job.attempts`.
 *
 * Compatibility: these are Blob names in Azure; the scheme is documented in docs/jobs.md and never changes
 * for existing jobs.
 *
 * @example
 * jobPayloadKey({ userId: 'key:alice' }, 'Yx3r0Vb2cT8nS1qLw7dG5A', 'request'); // 'u-…/Yx3r0Vb2cT8nS1qLw7dG5A/request'
 * jobPayloadKey({ userId: 'key:alice' }, 'Yx3r0Vb2cT8nS1qLw7dG5A', 'response', 2);
 * // → 'u-…/Yx3r0Vb2cT8nS1qLw7dG5A/response/2'
 */
export function jobPayloadKey(owner: JobOwner, jobId: string, part: 'request'): string;
export function jobPayloadKey(owner: JobOwner, jobId: string, part: 'response', attempt: number): string;
export function jobPayloadKey(owner: JobOwner, jobId: string, part: 'request' | 'response', attempt?: number): string {
  return part === 'request'
    ? `${ownerKey(owner)}/${jobId}/request`
    : `${ownerKey(owner)}/${jobId}/response/${attempt ?? 0}`;
}

/** The owner segment of {@link jobPayloadKey}. */
export function ownerKey(owner: JobOwner): string {
  return `u-${createHash('sha256').update(owner.userId, 'utf8').digest().subarray(0, 16).toString('base64url')}`;
}
