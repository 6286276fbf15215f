import { describe, expect, it } from 'vitest';
import { requestUrl, type RequestLine } from './request-url.js';

const line = (target: string, hosts: string[] = ['gw:8000'], extra: Partial<RequestLine> = {}): RequestLine => ({
  method: 'GET',
  target,
  httpVersion: '1.1',
  hosts,
  ...extra,
});

describe('requestUrl', () => {
  it.each([
    ['origin-form', line('/v1/models?x=1'), 'http://gw:8000/v1/models?x=1'],
    [
      'absolute-form names its own authority (RFC 9112 §3.2.2)',
      line('http://other:81/v1/models?a=b'),
      'http://other:81/v1/models?a=b',
    ],
    ['absolute-form https, upper-case scheme', line('HTTPS://gw/v1/models'), 'http://gw/v1/models'],
    ['absolute-form without a path', line('http://gw'), 'http://gw/'],
    ['absolute-form with only a query', line('http://gw?x=1'), 'http://gw/?x=1'],
    ['HTTP/1.0 without Host', line('/v1/models', [], { httpVersion: '1.0' }), 'http://localhost/v1/models'],
    ['an IPv6 literal Host', line('/v1/models', ['[::1]:8000']), 'http://[::1]:8000/v1/models'],
    ['a path of two slashes stays a path', line('//evil.example/v1', ['gw']), 'http://gw//evil.example/v1'],
  ])('serves %s', (_name, input, url) => {
    expect(requestUrl(input)).toEqual({ ok: true, url });
  });

  it.each([
    ['a Host holding a path', line('/v1/models', ['127.0.0.1:8200/echo/internal?x='])],
    ['a Host holding a query', line('/v1/models', ['x?'])],
    ['a Host holding a fragment', line('/v1/models', ['x#y'])],
    ['a Host with a space', line('/v1/models', ['a b'])],
    ['a Host with user info', line('/v1/models', ['user@gw'])],
    ['a port above 65535', line('/v1/models', ['gw:99999'])],
    ['an empty Host', line('/v1/models', [''])],
    ['two Host headers', line('/v1/models', ['a', 'b'])],
    ['no Host on HTTP/1.1', line('/v1/models', [])],
  ])('refuses %s with 400 GW_ERR_REQUEST_INVALID_HEADER on host', (_name, input) => {
    expect(requestUrl(input)).toMatchObject({
      ok: false,
      status: 400,
      code: 'GW_ERR_REQUEST_INVALID_HEADER',
      param: 'host',
    });
  });

  it.each([
    ['OPTIONS *', line('*', ['gw'], { method: 'OPTIONS' })],
    ['an authority-form target', line('gw:443')],
    ['an empty target', line('')],
    ['a relative path', line('v1/models')],
    ['a fragment in the target', line('/v1/models#x')],
    ['a non-http scheme', line('ftp://gw/v1/models')],
    ['user info in an absolute-form target', line('http://u:p@gw/v1/models')],
    ['a malformed absolute-form authority', line('http://g w/v1/models')],
    ['an absolute-form authority holding a fragment', line('http://gw#/v1/models')],
  ])('refuses %s with 400 GW_ERR_REQUEST_INVALID_TARGET', (_name, input) => {
    expect(requestUrl(input)).toMatchObject({ ok: false, status: 400, code: 'GW_ERR_REQUEST_INVALID_TARGET' });
  });

  it('answers CONNECT with 405', () => {
    expect(requestUrl(line('gw:443', ['gw:443'], { method: 'CONNECT' }))).toMatchObject({ ok: false, status: 405 });
  });
});
