import { holdOptimisingCompiler } from './start-compiler.js';

// `npm start`'s entry. The optimising compiler is held off before the host's ~250 modules are resolved — a static
// import would resolve them all before this line ran — and released once the host listens (ADR 0088).
const releaseCompiler = holdOptimisingCompiler({ execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS });
const { runHost } = await import('./host-main.js');
runHost(releaseCompiler);
