import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import type { AdminApi } from '../admin/admin-api.js';
import { GatewayError } from '../errors/gateway-error.js';
import { jsonResponse } from '../http/json-response.js';
import type { JobsApi } from '../jobs/jobs-api.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { ownEndpoint, type OwnEndpointDeps } from './own-endpoint.js';
import { callOf, gatewayRequest, snapshotOf } from './test-support/pipeline-fixtures.js';

const result = validateConfig({
  backends: [{ id: 'a', url: 'http://a.test', kind: 'openai' }],
  pools: [{ id: 'p', backends: ['a'] }],
  routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const s = snapshotOf(result.config);
const clock = new FakeClock();
const ADMIN = { adminId: 'ops', via: 'admin-key' } as const;

/** Deps whose admission and APIs log what they were asked. */
function depsOf(extra: Partial<OwnEndpointDeps> = {}) {
  const asked: string[] = [];
  const deps: OwnEndpointDeps = {
    health: { usableCount: () => 1 },
    admission: {
      authorizeAdmin: async (headers) => {
        asked.push(`authorizeAdmin:${headers.get('x-gateway-admin-key') ?? '-'}`);
        if (headers.get('x-gateway-admin-key') !== 'k') throw new GatewayError('GW_ERR_AUTH_INVALID_KEY');
        return ADMIN;
      },
    },
    ...extra,
  };
  return { deps, asked };
}

const admin = (asked: string[]): AdminApi => ({
  isPublic: (path) => path.endsWith('/status/page'),
  handle: async (request, { requestId }) => {
    asked.push(`admin:${new URL(request.url).pathname}`);
    return jsonResponse(200, { ok: true }, requestId);
  },
});

const jobsApi = (asked: string[], known: boolean): { api: JobsApi } => ({
  api: {
    matches: (path) => path.startsWith('/jobs/'),
    handle: async (_request, { requester, requestId }) => {
      asked.push(`jobs:${JSON.stringify(requester)}`);
      return known ? jsonResponse(200, { id: 'j1' }, requestId) : undefined;
    },
  },
});

const callTo = (path: string, headers: Record<string, string> = {}) =>
  callOf(gatewayRequest({ method: 'GET', path, headers }), clock);

describe('ownEndpoint', () => {
  it('answers the built-in endpoints without asking admission', async () => {
    const { deps, asked } = depsOf();
    expect((await ownEndpoint(deps, s, callTo('/health/live')))?.status).toBe(200);
    expect(asked).toEqual([]);
  });

  it('answers undefined for a call that goes on to admission, the job API without an admin key included', async () => {
    const { deps, asked } = depsOf();
    const withJobs = { ...deps, jobs: jobsApi(asked, true) };
    expect(await ownEndpoint(withJobs, s, callTo('/v1/chat/completions'))).toBeUndefined();
    expect(await ownEndpoint(withJobs, s, callTo('/jobs/j1'))).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('puts the admin API behind authorizeAdmin, except its public page', async () => {
    const { deps, asked } = depsOf();
    const withAdmin = { ...deps, admin: admin(asked) };
    const ok = await ownEndpoint(withAdmin, s, callTo('/gateway/admin/status', { 'x-gateway-admin-key': 'k' }));
    expect(ok?.status).toBe(200);
    await expect(ownEndpoint(withAdmin, s, callTo('/gateway/admin/status'))).rejects.toMatchObject({
      code: 'GW_ERR_AUTH_INVALID_KEY',
    });
    expect((await ownEndpoint(withAdmin, s, callTo('/gateway/admin/status/page')))?.status).toBe(200);
    expect(asked).toEqual([
      'authorizeAdmin:k',
      'admin:/gateway/admin/status',
      'authorizeAdmin:-',
      'admin:/gateway/admin/status/page',
    ]);
  });

  it('answers 404 for an admin path when no admin API is configured, after checking the admin key', async () => {
    const { deps, asked } = depsOf();
    const call = callTo('/gateway/admin/status', { 'x-gateway-admin-key': 'k' });
    await expect(ownEndpoint(deps, s, call)).rejects.toMatchObject({ code: 'GW_ERR_REQUEST_ROUTE_NOT_FOUND' });
    expect(asked).toEqual(['authorizeAdmin:k']);
  });

  it("gives an admin the job API as the admin, and 404 for a path that is no job's", async () => {
    const { deps, asked } = depsOf();
    const key = { 'x-gateway-admin-key': 'k' };
    const known = await ownEndpoint({ ...deps, jobs: jobsApi(asked, true) }, s, callTo('/jobs/j1', key));
    expect(known?.status).toBe(200);
    await expect(
      ownEndpoint({ ...deps, jobs: jobsApi(asked, false) }, s, callTo('/jobs/j1/nothing', key)),
    ).rejects.toMatchObject({ code: 'GW_ERR_REQUEST_ROUTE_NOT_FOUND' });
    expect(asked).toEqual([
      `authorizeAdmin:k`,
      `jobs:${JSON.stringify(ADMIN)}`,
      'authorizeAdmin:k',
      expect.any(String),
    ]);
  });
});
