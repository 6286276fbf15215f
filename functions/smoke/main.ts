import { runFunctionsSmoke } from './functions-smoke.js';

// `node dist/functions/smoke/main.js` (after `npm run build`): the CI smoke test of the Functions app's
// registered handlers, in process. It is not the Functions host (see functions-smoke.ts).
const checks = await runFunctionsSmoke();
for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${c.detail}`);
const failed = checks.filter((c) => !c.ok).length;
console.log(`functions smoke: ${checks.length - failed} of ${checks.length} checks ok`);
process.exitCode = failed === 0 ? 0 : 1;
