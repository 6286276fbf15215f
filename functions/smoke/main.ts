import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runFunctionsSmoke } from './functions-smoke.js';

// `npm run smoke:functions`: the Functions smoke checks (functions-smoke.ts) against .package/ (npm run
// package) under local.settings.sample.json's settings, with Azurite running on its default ports
// (`npx azurite --silent --location .azurite --skipApiVersionCheck --disableTelemetry`) or
// AzureWebJobsStorage set to another one. CI runs the same checks on an unpacked package in
// functions/smoke/package.test.ts. Not the Functions host.
const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
const storage = process.env.AzureWebJobsStorage ?? 'UseDevelopmentStorage=true';
const checks = await runFunctionsSmoke({
  appRoot: resolve(process.argv[2] ?? '.package'),
  settings: { ...sample.Values, PATH: process.env.PATH ?? '' },
  storageConnectionString: storage,
});
for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${c.detail}`);
const failed = checks.filter((c) => !c.ok).length;
console.log(`functions smoke: ${checks.length - failed} of ${checks.length} checks ok`);
process.exitCode = failed === 0 ? 0 : 1;
