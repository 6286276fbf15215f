import type { GovernanceConfig, ProfileConfig } from '../../config/governance-schema.js';
import type { AccessTokenVerifier } from '../../ports/access-token-verifier.js';
import type { JobOwner } from '../../ports/job-store.js';
import type { QuotaStore } from '../../ports/quota-store.js';
import type { Clock } from '../clock.js';
import { admitCaller } from './admit-caller.js';
import { admitOwner } from './admit-owner.js';
import { authorizeAdmin } from './authorize-admin.js';
import { authorizeTarget } from './authorize-target.js';
import { estimateRequestTokens, requestCost } from './estimate-request-tokens.js';
import type { VerifyToken } from './identify-caller.js';
import { createQuotaGuard, type QuotaGuard, type QuotaReservation } from './quota-guard.js';
import { verifyAccessToken } from './verify-access-token.js';
import type { HeaderReader } from '../http/header-map.js';

/** How the caller was identified. */
export type CallerIdentity = 'api-key' | 'entra' | 'trusted-upstream' | 'anonymous';

/** Who is calling, as recorded with usage and used for fair share and quotas. */
export interface Caller {
  /** The user: the key's `userId` (default `key:<id>`), the token's `oid`, `X-UserID`, or `anonymous`. */
  readonly userId: string;
  /** Entra application id (token `azp`/`appid`, or `X-MS-CLIENT-PRINCIPAL-ID`). */
  readonly appId?: string;
  /** The API key's configured id (never the key). */
  readonly keyId?: string;
  readonly profileId: string;
  readonly tier?: string;
  readonly identity: CallerIdentity;
}

/** The outcome of a successful {@link GatewayAdmission.admit}. */
export interface Admission {
  readonly caller: Caller;
  readonly profile: ProfileConfig;
  /** Priority level, 1 = most urgent, already clamped to what the profile allows. */
  readonly priority: number;
  /**
   * Changes to the request headers before it goes upstream: first remove every name in `remove`
   * (lower-case; includes the credential headers the gateway consumed), then set `set`.
   */
  readonly upstreamHeaders: { readonly set: Readonly<Record<string, string>>; readonly remove: readonly string[] };
  readonly asyncAllowed: boolean;
  /** A queued call that did not opt in becomes a job at the sync wait (`profiles[].async.upgradeWhenQueued`). */
  readonly asyncUpgradeWhenQueued: boolean;
  /** How long this caller's async results are kept. */
  readonly asyncResultRetentionMs: number;
  /** The governance snapshot this request was admitted under (later checks of the request use it too). */
  readonly governance: GovernanceConfig;
}

/** The target a request resolved to, checked against the profile's allowlists. */
export interface AdmissionTarget {
  readonly routeId: string;
  /** OpenAI `model` (or the model the caller asked for). */
  readonly model?: string | undefined;
  /** Azure OpenAI deployment name from the path. */
  readonly deployment?: string | undefined;
}

/** Who passed {@link GatewayAdmission.authorizeAdmin}. */
export interface AdminPrincipal {
  readonly adminId: string;
  readonly via: 'admin-key' | 'entra-role';
}

/** The governance step of the request pipeline. */
export interface GatewayAdmission {
  /**
   * Identifies the caller, finds its profile, enforces suspension, app allowlist and header rules, and
   * assigns the priority. Reads headers only (never the body). Throws {@link GatewayError}: 400
   * `GW_ERR_REQUEST_INVALID_HEADER`, 401 `GW_ERR_AUTH_MISSING` / `_INVALID_KEY` / `_INVALID_TOKEN`, 403
   * `GW_ERR_AUTH_APP_NOT_ALLOWED` / `_PROFILE_NOT_FOUND` / `_SUSPENDED`, 417 `GW_ERR_POLICY_REQUIRED_HEADER`
   * / `_HEADER_RULE`.
   */
  admit(input: { method: string; path: string; headers: HeaderReader }): Promise<Admission>;
  /**
   * Re-checks the standing of an async job's owner under the governance in force now — when the job starts
   * and on every retry — instead of a credential: the owner's profile must still exist, allow async mode
   * and admit its app; neither the profile, the API key that submitted the job, the user nor the app may
   * be suspended (or the key removed). Throws the same 401/403 errors as {@link admit}
   * (`GW_ERR_AUTH_SUSPENDED`, `_PROFILE_NOT_FOUND`, `_APP_NOT_ALLOWED`, `_INVALID_KEY`,
   * `GW_ERR_POLICY_ASYNC_NOT_ALLOWED`). The answer's profile then checks the route and model allowlists.
   */
  admitOwner(owner: JobOwner, priority: number): Admission;
  /** Throws 403 `GW_ERR_POLICY_MODEL_NOT_ALLOWED` when the profile may not use this route, model or deployment. */
  authorizeTarget(admission: Admission, target: AdmissionTarget): void;
  /**
   * Reserves the request's estimated tokens (output cap × answers asked for, plus the prompt) against the
   * profile's minute and day quotas. Resolves to `undefined` when the profile has no quota; throws 429
   * `GW_ERR_QUOTA_EXCEEDED` with `retryAfterMs`, or 400 `GW_ERR_REQUEST_INVALID_PARAMETER` for an output
   * cap or answer count that is not a bounded integer (checked with or without a quota).
   */
  reserveTokens(admission: Admission, body: unknown): Promise<QuotaReservation | undefined>;
  /**
   * Admits an admin call: an admin key in `x-gateway-admin-key`, or an Entra token carrying one of the
   * configured admin roles. With neither configured the admin API is closed. Throws 401
   * `GW_ERR_AUTH_INVALID_KEY` / `_INVALID_TOKEN` or 403 `GW_ERR_AUTH_ADMIN_REQUIRED`.
   */
  authorizeAdmin(headers: HeaderReader): Promise<AdminPrincipal>;
}

/** Dependencies of {@link createAdmission}. */
export interface AdmissionDeps {
  /** The current governance snapshot; read once per call, so a reload applies from the next request. */
  readonly governance: () => GovernanceConfig;
  /** Required when Entra mode or admin roles are configured. */
  readonly verifier?: AccessTokenVerifier | undefined;
  readonly quotas: QuotaStore;
  readonly clock: Clock;
}

/**
 * Creates the governance step the pipeline calls for every request: each method reads the governance
 * snapshot in force when it is called (a reload applies from the next request). The steps are their own
 * modules: `admit-caller.ts` (with `identify-caller.ts`: the identity modes in their fixed order, a wrong
 * credential refused, never passed on), `admit-owner.ts`, `authorize-target.ts`, `authorize-admin.ts`.
 *
 * @example
 * const admission = createAdmission({
 *   governance: () => store.current().governance, verifier, quotas: new MemoryQuotaStore(), clock: systemClock,
 * });
 * const admitted = await admission.admit({ method: request.method, path: url.pathname + url.search, headers });
 * admission.authorizeTarget(admitted, { routeId: route.id, model });
 * const held = await admission.reserveTokens(admitted, body);
 */
export function createAdmission(deps: AdmissionDeps): GatewayAdmission {
  const guard = createQuotaGuard({ store: deps.quotas, clock: deps.clock });
  const verify: VerifyToken = (token) => verifyAccessToken(deps.verifier, token);
  return {
    admit: ({ path, headers }) => admitCaller(deps.governance(), { path, headers }, verify),
    admitOwner: (owner, priority) => admitOwner(deps.governance(), owner, priority),
    authorizeTarget,
    reserveTokens: (admission, body) => reserveTokens(guard, admission, body),
    authorizeAdmin: (headers) => authorizeAdmin(deps.governance(), headers, verify),
  };
}

async function reserveTokens(
  guard: QuotaGuard,
  admission: Admission,
  body: unknown,
): Promise<QuotaReservation | undefined> {
  const q = admission.profile.quotas;
  // An absurd output cap or answer count is the caller's error with or without a quota.
  requestCost(body);
  if (q.tokensPerMinute === undefined && q.tokensPerDay === undefined) return undefined;
  const settings = admission.governance.quotas;
  const amount = estimateRequestTokens(body, {
    defaultMaxOutputTokens: settings.defaultMaxOutputTokens,
    charsPerToken: settings.promptCharsPerToken,
  });
  const subject =
    q.scope === 'profile'
      ? `profile:${admission.profile.id}`
      : `caller:${admission.profile.id}:${admission.caller.userId}`;
  return guard.reserve(subject, q, amount);
}
