import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../config/gateway-schema.js';
import { validateConfig } from '../../config/load-config.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Admission, AdmissionTarget } from '../governance/admission.js';
import { learnAffinity, route, type RouteDeps } from './route.js';
import {
  admissionOf,
  callOf,
  gatewayRequest,
  jobContext,
  liveContext,
  snapshotOf,
} from './test-support/pipeline-fixtures.js';
import type { BackendConfig } from '../../config/schema.js';
import type { BackendResponse } from '../../ports/backend-transport.js';

function config(extra: Partial<GatewayConfigInput> = {}) {
  const result = validateConfig({
    backends: [
      { id: 'a', url: 'http://a.test', kind: 'openai' },
      { id: 'b', url: 'http://b.test', kind: 'openai' },
      { id: 'c', url: 'http://c.test', kind: 'openai' },
    ],
    pools: [
      { id: 'main', backends: ['a', 'b'] },
      { id: 'other', backends: ['c'] },
    ],
    routes: [
      { id: 'chat', match: { models: ['gpt-4o', 'gpt4o-deployment'] }, pool: 'main' },
      { id: 'echo', match: { pathPrefix: '/echo' }, pool: 'other' },
    ],
    limits: { maxBodyBytes: 160 },
    ...extra,
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.config;
}

function deps(pins: Record<string, string> = {}): RouteDeps & { readonly authorized: AdmissionTarget[] } {
  const authorized: AdmissionTarget[] = [];
  return {
    authorized,
    affinity: { get: async (id) => pins[id] },
    admission: {
      authorizeTarget: (_admission: Admission, target: AdmissionTarget) => {
        authorized.push(target);
        if (target.model === 'forbidden') throw new GatewayError('GW_ERR_POLICY_MODEL_NOT_ALLOWED');
      },
    },
  };
}

const clock = new FakeClock();
const chat = (model: unknown = 'gpt-4o') => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('route', () => {
  it('routes by the body model, checks it against the profile and records the route', async () => {
    const d = deps();
    const call = callOf(gatewayRequest({ body: chat() }), clock);
    const routed = await route(d, snapshotOf(config()), call, liveContext());
    expect(routed.match.route.id).toBe('chat');
    expect(routed.model).toBe('gpt-4o');
    expect(routed.json?.model).toBe('gpt-4o');
    expect(new TextDecoder().decode(routed.body!)).toBe(chat());
    expect(d.authorized).toEqual([{ routeId: 'chat', model: 'gpt-4o', deployment: undefined }]);
    expect(call.summary).toMatchObject({ routeId: 'chat', modelAsked: 'gpt-4o' });
    expect(call.summary.target?.operation).toBe('chat/completions');
  });

  it('routes an Azure OpenAI call by its deployment and checks the deployment, not a model', async () => {
    const d = deps();
    const call = callOf(
      gatewayRequest({
        path: '/openai/deployments/gpt4o-deployment/chat/completions?api-version=2024-10-21',
        body: '{}',
      }),
      clock,
    );
    const routed = await route(d, snapshotOf(config()), call, liveContext());
    expect(routed.match.route.id).toBe('chat');
    expect(d.authorized).toEqual([{ routeId: 'chat', model: undefined, deployment: 'gpt4o-deployment' }]);
  });

  it('routes a plain HTTP path by prefix and forwards the rest of the path', async () => {
    const call = callOf(gatewayRequest({ method: 'GET', path: '/echo/internal' }), clock);
    const routed = await route(deps(), snapshotOf(config()), call, liveContext());
    expect(routed.match).toMatchObject({ route: { id: 'echo' }, forwardPath: '/internal' });
    expect(routed.body).toBeNull();
  });

  it.each([
    ['a body that is not JSON', 'not json', 'GW_ERR_REQUEST_INVALID_JSON', 400],
    ['a JSON body that is not an object', '[1,2]', 'GW_ERR_REQUEST_INVALID_JSON', 400],
    ['a chat call without a model', JSON.stringify({ messages: [] }), 'GW_ERR_REQUEST_MODEL_MISSING', 400],
    ['a model no route serves', chat('gpt-unknown'), 'GW_ERR_REQUEST_MODEL_NOT_FOUND', 404],
    ['a model the profile may not use', chat('forbidden'), 'GW_ERR_POLICY_MODEL_NOT_ALLOWED', 403],
    ['a body over the limit', chat('x'.repeat(200)), 'GW_ERR_REQUEST_BODY_TOO_LARGE', 413],
  ])('refuses %s', async (_name, body, code, status) => {
    const d = deps();
    const s = snapshotOf(
      config({ routes: [...config().routes, { id: 'f', match: { models: ['forbidden'] }, pool: 'main' }] }),
    );
    const failure = await route(d, s, callOf(gatewayRequest({ body }), clock), liveContext()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure).toMatchObject({ code, status });
  });

  it('answers 404 naming the state id when no backend is known to hold it', async () => {
    const call = callOf(gatewayRequest({ method: 'GET', path: '/v1/responses/resp_gone' }), clock);
    await expect(route(deps(), snapshotOf(config()), call, liveContext())).rejects.toMatchObject({
      code: 'GW_ERR_REQUEST_ROUTE_NOT_FOUND',
      message: expect.stringContaining('"resp_gone"'),
    });
  });

  it('pins a call that refers to server-side state to the backend holding it', async () => {
    const byPath = callOf(gatewayRequest({ method: 'GET', path: '/v1/responses/resp_1' }), clock);
    const pinned = await route(deps({ resp_1: 'b' }), snapshotOf(config()), byPath, liveContext());
    expect(pinned.match.route.id).toBe('chat');
    expect(pinned.pinnedBackendId).toBe('b');

    const body = JSON.stringify({ model: 'gpt-4o', input: 'hi', previous_response_id: 'resp_2' });
    const byBody = callOf(gatewayRequest({ path: '/v1/responses', body }), clock);
    // The state lives on a backend outside the model's pool: the call is not pinned to it.
    expect((await route(deps({ resp_2: 'c' }), snapshotOf(config()), byBody, liveContext())).pinnedBackendId).toBe(
      undefined,
    );
  });

  it("applies the profile's header rules after the header policy and never forwards caller credentials", async () => {
    const admission = admissionOf({}, { upstreamHeaders: { set: { 'x-team': 'blue' }, remove: ['x-secret'] } });
    const request = gatewayRequest({
      body: chat(),
      headers: { 'content-type': 'application/json', 'api-key': 'sk-caller', 'x-secret': 's', 'x-keep': 'k' },
    });
    const routed = await route(deps(), snapshotOf(config()), callOf(request, clock), liveContext(admission));
    expect(routed.headers).toMatchObject({ 'x-team': 'blue', 'x-keep': 'k' });
    expect(routed.headers['x-secret']).toBeUndefined();
    expect(routed.headers['api-key']).toBeUndefined();
  });

  it('gives a job its run deadline, ignores the TTL header it was stored with, checks owner allowlist', async () => {
    const d = deps();
    const s = snapshotOf(config({ async: { runDeadlineMs: 600_000 } }));
    const headers = { 'content-type': 'application/json', 'x-gateway-ttl': '5' };
    const live = await route(d, s, callOf(gatewayRequest({ body: chat(), headers }), clock), liveContext());
    const job = await route(d, s, callOf(gatewayRequest({ body: chat(), headers }), clock), jobContext());
    expect(live.deadline.expiresAtMs).toBe(clock.now() + 5_000);
    expect(job.deadline.expiresAtMs).toBe(clock.now() + 600_000);
    expect(d.authorized).toHaveLength(2);
  });
});

describe('learnAffinity', () => {
  const served = (status: number) => ({
    backend: { id: 'b' } as BackendConfig,
    response: { status } as BackendResponse,
  });

  it('remembers which backend created the state a successful creating call answered with', async () => {
    const set: [string, string, number][] = [];
    const s = snapshotOf(config());
    const routed = await route(
      deps(),
      s,
      callOf(gatewayRequest({ path: '/v1/responses', body: chat() }), clock),
      liveContext(),
    );
    const observe = learnAffinity({ set: async (...args) => void set.push(args) }, s, routed, 'POST', served(200));
    observe!(new TextEncoder().encode('{"id":"resp_9","object":"response"}'));
    expect(set).toEqual([['resp_9', 'b', s.config.affinity.ttlMs]]);
  });

  it('learns nothing from a failed call or one that creates no state', async () => {
    const s = snapshotOf(config());
    const affinity = { set: () => Promise.reject(new Error('must not be called')) };
    const creating = await route(
      deps(),
      s,
      callOf(gatewayRequest({ path: '/v1/responses', body: chat() }), clock),
      liveContext(),
    );
    const chatting = await route(deps(), s, callOf(gatewayRequest({ body: chat() }), clock), liveContext());
    expect(learnAffinity(affinity, s, creating, 'POST', served(400))).toBeUndefined();
    expect(learnAffinity(affinity, s, chatting, 'POST', served(200))).toBeUndefined();
  });
});
