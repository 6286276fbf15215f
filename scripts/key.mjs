// `npm run key`: a new caller key (or, with --admin, an admin key) and the line to paste into the
// configuration. Plain JavaScript on Node built-ins, so it runs at once: no build, no dependencies.
// The hash is the lower-case hex SHA-256 of the key's UTF-8 bytes, as `hashApiKey` in
// shared/core/governance/hash-api-key.ts computes it (docs/governance.md, "API keys").
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const USAGE = `usage: npm run key [-- --admin] [--id <name>] [--profile <profile id>] [--json]

  prints a new random key and the entry for gateway.config.json:
    caller key  → governance.identity.apiKeys.keys[]   (callers send "api-key: <key>" or "Authorization: Bearer <key>")
    --admin     → governance.admin.keys[]              (admins send "x-gateway-admin-key: <key>")
  --id        the entry's id, shown in logs and usage records (default: caller-<random> / admin-<random>)
  --profile   the caller profile the key acts under (default: standard)
  --json      one JSON object { key, sha256, entry, path } instead of the text`;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function fail(message) {
  process.stderr.write(`npm run key: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      admin: { type: 'boolean', default: false },
      id: { type: 'string' },
      profile: { type: 'string', default: 'standard' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  }).values;
} catch (error) {
  fail(error.message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const kind = args.admin ? 'admin' : 'caller';
const suffix = randomBytes(3).toString('hex');
const id = args.id ?? `${kind}-${suffix}`;
if (!ID.test(id))
  fail(`--id "${id}" is not an id: 1-128 letters, digits, ".", "_", "-", starting with a letter or digit`);
if (!ID.test(args.profile)) fail(`--profile "${args.profile}" is not a profile id`);

const key = `sk-gw-${args.admin ? 'admin-' : ''}${randomBytes(32).toString('base64url')}`;
const sha256 = createHash('sha256').update(key, 'utf8').digest('hex');
const entry = args.admin ? { id, sha256 } : { id, sha256, profile: args.profile };
const path = args.admin ? 'governance.admin.keys' : 'governance.identity.apiKeys.keys';

if (args.json) {
  process.stdout.write(`${JSON.stringify({ key, sha256, entry, path })}\n`);
} else {
  const header = args.admin ? 'x-gateway-admin-key: <key>' : 'api-key: <key>   (or Authorization: Bearer <key>)';
  const lines = [
    `new ${kind} key — give it to its owner; it is shown once and the gateway never stores it:`,
    `  ${key}`,
    '',
    `add this entry to ${path} in gateway.config.json:`,
    `  ${JSON.stringify(entry)}`,
    ...(args.admin
      ? []
      : [
          `  (profile "${args.profile}" must exist in governance.profiles; ` +
            `set governance.identity.apiKeys.enabled: true)`,
        ]),
    '',
    `sha256 = ${sha256}`,
    `send it as  ${header}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
