/** The identity an App Service / Functions EasyAuth (or APIM) front end vouches for. */
export interface ClientPrincipal {
  readonly appId?: string;
  readonly userId?: string;
  readonly roles: readonly string[];
}

const APP_ID_CLAIMS = ['azp', 'appid'];
const USER_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

/**
 * Decodes an `X-MS-CLIENT-PRINCIPAL` header: base64 of the EasyAuth JSON
 * `{ "auth_typ": "aad", "claims": [{ "typ": "appid", "val": "…" }, …], "role_typ": "roles" }`.
 * Returns `undefined` when the value is not such a document (the caller decides what that means).
 *
 * @example
 * parseClientPrincipal(Buffer.from(JSON.stringify({ claims: [{ typ: 'appid', val: 'app-1' }] })).toString('base64'))
 * // → { appId: 'app-1', userId: undefined, roles: [] }
 */
export function parseClientPrincipal(headerValue: string): ClientPrincipal | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(headerValue, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { claims?: unknown }).claims)) return undefined;
  const doc2 = doc as { claims: unknown[]; role_typ?: unknown };
  const claims = doc2.claims.filter(
    (c): c is { typ: string; val: string } =>
      typeof c === 'object' &&
      c !== null &&
      typeof (c as { typ?: unknown }).typ === 'string' &&
      typeof (c as { val?: unknown }).val === 'string',
  );
  const first = (types: string[]): string | undefined => claims.find((c) => types.includes(c.typ))?.val;
  const roleTypes = typeof doc2.role_typ === 'string' ? [doc2.role_typ, ...ROLE_CLAIMS] : ROLE_CLAIMS;
  return {
    appId: first(APP_ID_CLAIMS),
    userId: first(USER_ID_CLAIMS),
    roles: claims.filter((c) => roleTypes.includes(c.typ)).map((c) => c.val),
  };
}
