import { createSecureServer } from 'node:http2';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Pool } from './undici-parts.js';

// A self-signed certificate for localhost / 127.0.0.1, made for this test only (openssl, P-256, 100 years).
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg46cajGwPt8aFJarI
CFA1c6G1LiEqRgdOwgVjDWqZXAChRANCAAScwY6EqBsYuxJAxOW+3OSoO9+j/mdh
WvNtAMZuSUcGpln8Vxsl6ImhDLkdyPm5hyK7neIhFgoSw3sBTli+pDXj
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUeiszeTMDz3C4pQERuRcPw+SwrkcwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNzIwMzkwMloYDzIxMjYxMTEz
MjAzOTAyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAScwY6EqBsYuxJAxOW+3OSoO9+j/mdhWvNtAMZuSUcGpln8Vxsl6Imh
DLkdyPm5hyK7neIhFgoSw3sBTli+pDXjo28wbTAdBgNVHQ4EFgQUjVEYx/toFS1M
/HieeYFWA4ItuN0wHwYDVR0jBBgwFoAUjVEYx/toFS1M/HieeYFWA4ItuN0wDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDRwAwRAIgV0GoNBuMcVt/Bath6wB1z6snEKmpe/MxoNm+F06rV7ECIDJR
S92oTynwNEUBmS99/bb7li5jATSO+JvTWwoTcNFd
-----END CERTIFICATE-----`;

const require = createRequire(import.meta.url);
const H2_CONNECTOR = require.resolve('undici/lib/dispatcher/client-h2.js');
const connectorSource = (): string => String(require.cache[H2_CONNECTOR]?.exports);

/**
 * ADR 0079: undici's HTTP/2 connector is a stand-in until a connection negotiates h2, so `node:http2` and
 * `node:tls` are not loaded at start (test/process/config-validation-child.test.ts holds that for the host);
 * a dispatcher with `allowH2` must still speak HTTP/2 through it.
 */
describe('undici parts', () => {
  it('loads the real HTTP/2 connector at the first h2 connection and speaks HTTP/2 through it', async () => {
    // The stand-in, not undici's connector (which reads the session's window sizes), answers from the cache.
    expect(connectorSource()).not.toContain('http2InitialWindowSize');
    const versions: string[] = [];
    const server = createSecureServer({ key: KEY, cert: CERT, allowHTTP1: false }, (req, res) => {
      versions.push(req.httpVersion);
      res.end('over h2');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const pool = new Pool(`https://127.0.0.1:${port}`, {
      allowH2: true,
      connect: { ca: CERT },
    });
    try {
      const response = await pool.request({ path: '/', method: 'GET' });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('over h2');
      expect(versions).toEqual(['2.0']);
      expect(connectorSource()).toContain('http2InitialWindowSize');
    } finally {
      await pool.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
