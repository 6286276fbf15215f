import { GatewayError } from '../errors/gateway-error.js';
import type { Admission, AdmissionTarget } from './admission.js';
import { matchNamePattern } from './match-name-pattern.js';

/**
 * Throws 403 `GW_ERR_POLICY_MODEL_NOT_ALLOWED` when the admitted profile may not use the route, the model
 * or the deployment (a profile without `allowedDeployments` checks deployments against `allowedModels`).
 *
 * @example
 * authorizeTarget(admitted, { routeId: 'chat', model: 'gpt-4o' });
 */
export function authorizeTarget(admission: Admission, target: AdmissionTarget): void {
  const p = admission.profile;
  const refuse = (what: string): never => {
    throw new GatewayError('GW_ERR_POLICY_MODEL_NOT_ALLOWED', { message: `Profile ${p.id} may not use ${what}.` });
  };
  if (p.allowedRoutes !== undefined && !matchNamePattern(p.allowedRoutes, target.routeId))
    refuse(`route "${target.routeId}"`);
  if (target.model !== undefined && p.allowedModels !== undefined && !matchNamePattern(p.allowedModels, target.model))
    refuse(`model "${target.model}"`);
  const deployments = p.allowedDeployments ?? p.allowedModels;
  if (target.deployment !== undefined && deployments !== undefined && !matchNamePattern(deployments, target.deployment))
    refuse(`deployment "${target.deployment}"`);
}
