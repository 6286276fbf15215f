import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadApp } from '../functions/smoke/app-process.js';

// `npm run bench:cold`: the Functions app's share of a cold start — importing the deployment package's
// `main` until every function is registered (what the host does while indexing) — in fresh Node processes,
// under the deployed app settings. Prints the median, the spread and what the import loaded. The bar
// (issue 11): ≤ 1 s on this machine. Timings here swing ±25 % with the other load on the machine.
const appRoot = resolve(process.argv[2] ?? '.package');
const runs = Number(process.argv[3] ?? 7);
const file = JSON.parse(readFileSync('infra/app-settings.json', 'utf8')) as {
  settings: Record<string, string>;
  fromDeployment: Record<string, string>;
};
const settings = { ...file.settings, ...file.fromDeployment };
const times: number[] = [];
for (let i = 0; i < runs; i++) times.push((await loadApp(appRoot, settings, { timeOnly: true })).loadMs);
const graph = await loadApp(appRoot, settings);
times.sort((a, b) => a - b);
const ms = (v: number): string => `${v.toFixed(0)} ms`;
console.log(
  `cold start (import of main until registered), ${runs} fresh processes, node ${graph.node}: ` +
    `median ${ms(times[Math.floor(runs / 2)]!)}, min ${ms(times[0]!)}, max ${ms(times[runs - 1]!)}`,
);
console.log(`  ${graph.functions.length} functions, ${graph.modules} modules, packages: ${graph.packages.join(', ')}`);
