import { describe, expect, it } from 'vitest';
import { createsState, referencedStateId, StateIdSniffer } from './affinity.js';
import { parseRequestTarget } from './request-target.js';

describe('referencedStateId', () => {
  it.each([
    ['/v1/responses/resp_123', undefined, 'resp_123'],
    ['/v1/responses/resp_123/input_items', undefined, 'resp_123'],
    ['/v1/files/file-abc/content', undefined, 'file-abc'],
    ['/v1/threads/thread_9/runs', undefined, 'thread_9'],
    ['/v1/responses', { previous_response_id: 'resp_prev' }, 'resp_prev'],
    ['/v1/responses', { model: 'm' }, undefined],
    ['/v1/chat/completions', { model: 'm' }, undefined],
    ['/openai/deployments/d/chat/completions', undefined, undefined],
  ])('%s %j refers to %s', (path, json, id) => {
    expect(referencedStateId(parseRequestTarget(path, ''), json as Record<string, unknown> | undefined)).toBe(id);
  });
});

describe('createsState', () => {
  it('is true for POSTs to stateful collections only', () => {
    expect(createsState(parseRequestTarget('/v1/responses', ''), 'POST')).toBe(true);
    expect(createsState(parseRequestTarget('/v1/files', ''), 'POST')).toBe(true);
    expect(createsState(parseRequestTarget('/v1/responses/resp_1', ''), 'GET')).toBe(false);
    expect(createsState(parseRequestTarget('/v1/chat/completions', ''), 'POST')).toBe(false);
  });
});

describe('StateIdSniffer', () => {
  it('finds the id of a JSON answer split across chunks', () => {
    const sniffer = new StateIdSniffer();
    const bytes = new TextEncoder().encode('{"id":"resp_abc","object":"response","output":[{"id":"msg_1"}]}');
    let found: string | undefined;
    for (let i = 0; i < bytes.length; i += 3) found ??= sniffer.push(bytes.subarray(i, i + 3));
    expect(found).toBe('resp_abc');
  });

  it('finds the response id in the first event of a stream', () => {
    const sniffer = new StateIdSniffer();
    const event =
      'event: response.created\ndata: ' +
      '{"type":"response.created","sequence_number":0,"response":{"id":"resp_s1","status":"in_progress"}}\n\n';
    expect(sniffer.push(new TextEncoder().encode(event))).toBe('resp_s1');
  });

  it('gives up after its bound', () => {
    const sniffer = new StateIdSniffer();
    expect(sniffer.push(new TextEncoder().encode(' '.repeat(9000)))).toBeUndefined();
    expect(sniffer.push(new TextEncoder().encode('{"id":"late"}'))).toBeUndefined();
  });
});
