// The two durable-functions modules `durable-registration.ts` loads on first use (not the package's public
// entry point; the version is pinned in package.json). Their exports are typed where they are used.
declare module 'durable-functions/lib/src/util/testingUtils.js';
declare module 'durable-functions/lib/src/app.js';
