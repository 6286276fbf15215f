import { describe, expect, it } from 'vitest';
import { downstreamHeaders, upstreamHeaders } from './header-policy.js';

describe('upstreamHeaders', () => {
  const incoming = new Headers({
    connection: 'keep-alive, x-hop',
    'x-hop': '1',
    host: 'gateway',
    'content-length': '10',
    'content-type': 'application/json',
    S7PPriorityKey: 'high',
    S7PTTL: '30',
    'X-MS-CLIENT-PRINCIPAL-ID': 'app',
    'x-gateway-ttl': '5',
    authorization: 'Bearer caller',
    'api-key': 'caller-key',
    'x-secret': 's',
    'x-keep': 'k',
  });

  it('drops hop-by-hop, S7P*, X-MS-CLIENT*, x-gateway-*, credentials and configured headers', () => {
    expect(upstreamHeaders(incoming, { strip: new Set(['x-secret']), keepCallerCredentials: false })).toEqual({
      'content-type': 'application/json',
      'x-keep': 'k',
    });
  });

  it('keeps the caller credentials for passthrough backends', () => {
    const out = upstreamHeaders(incoming, { strip: new Set(), keepCallerCredentials: true });
    expect(out.authorization).toBe('Bearer caller');
    expect(out['api-key']).toBe('caller-key');
  });
});

describe('downstreamHeaders', () => {
  it('drops hop-by-hop and configured response headers and keeps repeated ones', () => {
    const out = downstreamHeaders(
      {
        connection: 'close',
        'transfer-encoding': 'chunked',
        'x-internal': 'a',
        'set-cookie': ['a=1', 'b=2'],
        'content-type': 'text/event-stream',
      },
      new Set(['x-internal']),
      false,
    );
    expect(out.get('connection')).toBeNull();
    expect(out.get('transfer-encoding')).toBeNull();
    expect(out.get('x-internal')).toBeNull();
    expect(out.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('drops the fields the backend names in its Connection header, for this hop only (RFC 9110 §7.6.1)', () => {
    const out = downstreamHeaders(
      { connection: 'Keep-Alive, X-Hop-Note', 'x-hop-note': 'internal', 'x-request-id': 'r1' },
      new Set(),
      false,
    );
    expect(out.get('x-hop-note')).toBeNull();
    expect(out.get('x-request-id')).toBe('r1');
    const listedTwice = downstreamHeaders({ connection: ['close', 'x-a'], 'x-a': '1', 'x-b': '2' }, new Set(), false);
    expect([listedTwice.get('x-a'), listedTwice.get('x-b')]).toEqual([null, '2']);
  });

  it('keeps every other field when Connection lists only keep-alive or close', () => {
    const out = downstreamHeaders(
      { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-b': '2' },
      new Set(),
      false,
    );
    expect([out.get('keep-alive'), out.get('x-b')]).toEqual([null, '2']);
  });
});
