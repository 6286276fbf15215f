import { resolve } from 'node:path';
import { buildPackage } from './build-package.js';

// `npm run package` (also azd's prepackage hook, azure.yaml): builds .package/, the folder azd zips and
// deploys, and prints its size and file count.
const outDir = resolve(process.argv[2] ?? '.package');
const started = performance.now();
const summary = buildPackage({ root: process.cwd(), outDir });
const mb = (summary.bytes / 1_048_576).toFixed(1);
console.log(
  `package: ${summary.outDir} — ${summary.files.toLocaleString('en')} files, ${mb} MiB ` +
    `(${summary.dependencies} production packages), built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
