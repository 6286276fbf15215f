import { describe, expect, it } from 'vitest';
import { reservedRoutePrefix } from './reserved-routes.js';

describe('reservedRoutePrefix (the Functions host’s own check)', () => {
  it('refuses what the host refuses: any route starting with admin or runtime, any case, any slashes', () => {
    for (const route of ['admin/{*rest}', '/Admin/x', 'administration/health', 'runtime/webhooks/x', 'RUNTIMES'])
      expect(reservedRoutePrefix(route), route).toBeDefined();
  });

  it('lets through routes that only contain them further in', () => {
    for (const route of ['gateway/admin/{*rest}', '{*path}', 'jobs/{*rest}', 'health/{kind}', 'v1/admin'])
      expect(reservedRoutePrefix(route), route).toBeUndefined();
  });
});
