import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// No Bicep compiler installs here (none is published to npm), so the template is checked where it meets
// the code: the settings file it loads, the seed it writes, the azd project, and values that must agree.
const repo = new URL('../../', import.meta.url).pathname;
const text = (path: string): string => readFileSync(join(repo, path), 'utf8');
const json = <T>(path: string): T => JSON.parse(text(path)) as T;

const main = text('infra/main.bicep');
const gateway = text('infra/app/gateway.bicep');
const seedModule = text('infra/app/config-seed.bicep');
const appSettings = json<{ settings: Record<string, string>; fromDeployment: Record<string, string> }>(
  'infra/app-settings.json',
);

/** The property names of a Bicep object literal `var <name> = { … }`. */
function bicepObjectKeys(source: string, name: string): string[] {
  const body = new RegExp(`var ${name} = \\{\\n([\\s\\S]*?)\\n\\}`).exec(source)?.[1] ?? '';
  return body
    .split('\n')
    .map((line) => /^\s+(\w+):/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined);
}

/** A Bicep parameter's default value, as written. */
const bicepDefault = (source: string, name: string): string | undefined =>
  new RegExp(`param ${name} \\w+ = ([^\\n]+)`).exec(source)?.[1]?.trim();

describe('infra: main.bicep and the files it loads', () => {
  it('writes exactly the app settings app-settings.json lists, from the file and from the deployment', () => {
    expect(gateway).toContain("loadJsonContent('../app-settings.json')");
    expect(gateway).toContain('union(appSettings.settings, resourceSettings)');
    expect(bicepObjectKeys(gateway, 'resourceSettings').sort()).toEqual(Object.keys(appSettings.fromDeployment).sort());
    const overlap = Object.keys(appSettings.settings).filter((key) => key in appSettings.fromDeployment);
    expect(overlap).toEqual([]);
  });

  it('seeds App Configuration from app-config-seed.json with both placeholders filled, under the app’s prefix', () => {
    const seed = json<{ keyValues: Record<string, unknown> }>('infra/app-config-seed.json');
    expect(seedModule).toContain("loadJsonContent('../app-config-seed.json')");
    for (const placeholder of ['__AZURE_OPENAI_ENDPOINT__', '__STARTER_KEY_SHA256__']) {
      expect(JSON.stringify(seed.keyValues)).toContain(placeholder);
      expect(seedModule).toContain(`'${placeholder}'`);
    }
    const prefix = appSettings.settings['GATEWAY_FUNCTIONS__APPCONFIG_PREFIX']!;
    // Resource names may not hold ':' or '/': every key is prefix + section name.
    const keyPattern = new RegExp(`^${prefix.replace('.', '\\.')}\\w+$`);
    for (const key of Object.keys(seed.keyValues)) expect(key).toMatch(keyPattern);
    expect(Object.keys(seed.keyValues)).toContain(`${prefix}sentinel`);
  });

  it('derives lower-case names, allows only Flex Consumption regions, keeps a durable instance ready', () => {
    expect(main).toContain('var envName = toLower(environmentName)');
    expect(main).toMatch(/@allowed\(\[\n\s+'australiaeast'/);
    expect(main).toContain("@metadata({ azd: { type: 'location' } })");
    expect(bicepDefault(main, 'alwaysReadyDurable')).toBe('1');
    expect(gateway).toContain("{ name: 'durable', instanceCount: alwaysReadyDurable }");
  });

  it('authenticates every connection and telemetry with the user-assigned identity', () => {
    expect(appSettings.settings).toMatchObject({
      AzureWebJobsStorage__credential: 'managedidentity',
      ServiceBusConnection__credential: 'managedidentity',
      AppConfigConnection__credential: 'managedidentity',
    });
    expect(gateway).toContain('AZURE_CLIENT_ID: identity.properties.clientId');
    expect(gateway).toContain(
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'",
    );
    expect(gateway).toContain('DisableLocalAuth: true');
    for (const role of ['serviceBusDataOwner', 'monitoringMetricsPublisher', 'appConfigDataReader'])
      expect(gateway).toContain(`roles.${role})`);
    expect(text('infra/app/openai-access.bicep')).toContain("'5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'");
  });

  it('agrees with host.json on deliveries: the queue, the worker and the Storage queue trigger', () => {
    const host = json<{ extensions: { queues: { maxDequeueCount: number } } }>('host.json');
    const maxDequeueCount = String(host.extensions.queues.maxDequeueCount);
    expect(bicepDefault(main, 'jobMaxDeliveries')).toBe(maxDequeueCount);
    expect(appSettings.fromDeployment['GATEWAY_ASYNC__MAX_DELIVERIES']).toBe(maxDequeueCount);
  });
});

describe('azd: azure.yaml and .funcignore', () => {
  const azureYaml = text('azure.yaml');

  it('deploys the package npm run package builds, built here (the same command is the hook)', () => {
    expect(azureYaml).toMatch(/\n {4}dist: \.package\n/);
    expect(azureYaml).toMatch(/\n {4}remoteBuild: false\n/);
    expect(azureYaml).toMatch(/prepackage:\n\s+run: npm run package\n/);
    expect(json<{ scripts: Record<string, string> }>('package.json').scripts['package']).toContain(
      'dist/scripts/package/main.js',
    );
    expect(azureYaml).toMatch(/\n {2}path: infra\n/);
  });

  it('keeps .funcignore consistent with remoteBuild: false (azd refuses it when node_modules is excluded)', () => {
    const rules = text('.funcignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(rules.filter((rule) => /(^|\/)node_modules\/?$/.test(rule) || rule === '*')).toEqual([]);
    expect(rules).toContain('.package/');
  });
});
