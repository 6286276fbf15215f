// azd preprovision hook (azure.yaml): makes the environment's starter caller key once and keeps it in the
// azd environment (.azure/<env>/.env, on this machine only). Only its SHA-256 is deployed — main.bicep
// writes it into the starter configuration in App Configuration — so the first call can be made right
// after `azd up`: `azd env get-value GATEWAY_STARTER_KEY`. Replace it with per-team keys (docs/deploy.md).
// Plain Node, no build step and no dependencies: it runs before anything is installed.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';

const azd = (...args) => execFileSync('azd', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const existing = (() => {
  try {
    return azd('env', 'get-value', 'GATEWAY_STARTER_KEY');
  } catch {
    return ''; // not set yet (azd exits non-zero)
  }
})();
const key = existing !== '' ? existing : `gw-${randomBytes(24).toString('base64url')}`;
const sha256 = createHash('sha256').update(key, 'utf8').digest('hex');
if (existing === '') azd('env', 'set', 'GATEWAY_STARTER_KEY', key);
azd('env', 'set', 'GATEWAY_STARTER_KEY_SHA256', sha256);
console.log(`starter caller key ${existing === '' ? 'created' : 'kept'}: azd env get-value GATEWAY_STARTER_KEY`);
