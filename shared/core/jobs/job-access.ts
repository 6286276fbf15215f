import type { JobRecord } from '../../ports/job-store.js';

/**
 * Who asks about a job: the admitted caller (its identity from the pipeline's admission — a `Caller`
 * satisfies this) or an admin (an `AdminPrincipal` satisfies the second shape).
 */
export type JobRequester =
  | { readonly userId: string; readonly profileId?: string | undefined; readonly appId?: string | undefined }
  | { readonly adminId: string };

/**
 * Whether `requester` may see, fetch or cancel `job`: an admin always; a caller when its `userId`
 * matches and, where the job recorded them, its `profileId` and `appId` match too. Everyone else is
 * answered 404 as if the job did not exist, so ids never reveal other callers' jobs.
 *
 * @example
 * mayAccessJob(job, admission.caller); // true for the submitter
 */
export function mayAccessJob(job: Pick<JobRecord, 'owner'>, requester: JobRequester): boolean {
  if ('adminId' in requester) return true;
  const { owner } = job;
  if (owner.userId !== requester.userId) return false;
  if (owner.profileId !== undefined && owner.profileId !== requester.profileId) return false;
  if (owner.appId !== undefined && owner.appId !== requester.appId) return false;
  return true;
}
