// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const azureAndDurable = [
  { group: ['@azure/*'], message: 'shared/core is web-standard: Azure SDKs belong in shared/adapters/azure.' },
  { group: ['durable-functions', '@azure/functions'], message: 'Functions packages belong in functions/ only.' },
  {
    group: ['undici', 'jose', 'js-tiktoken', 'applicationinsights', 'zod'],
    message: 'shared/core imports shared/{core,ports} and Node built-ins only; put the package behind a port.',
  },
  {
    group: ['**/adapters/**', '**/composition/**', '**/standalone/**', '**/functions/**'],
    message: 'shared/core may import shared/core and shared/ports only.',
  },
  {
    group: ['**/config/**'],
    allowTypeImports: true,
    message: 'shared/core may import config types (import type) but not the loaders.',
  },
];

/**
 * Test support — the fake clock, harnesses, manual timers, contract suites — is for tests: production code may
 * not import it, statically or dynamically. A module path naming a `test-support/` or `test/support/` folder,
 * a test or contract file, or vitest is refused (test/lint/test-support-rule.test.ts proves the rule).
 */
const TEST_SUPPORT_PATH = String.raw`/(^|\W)test.support\W|\.(test|contract)\.js$|^vitest(\W|$)/`;
const testSupportOnly = ['ImportDeclaration', 'ImportExpression', 'ExportNamedDeclaration', 'ExportAllDeclaration'].map(
  (node) => ({
    selector: `${node}[source.value=${TEST_SUPPORT_PATH}]`,
    message: 'Test support is for tests: production code cannot import it (move the helper, or the test).',
  }),
);

/**
 * The production folders in which every function fits on a screen (issue 16; ADRs 0044, 0047, 0054): there
 * `max-lines-per-function` holds, so `npm run lint` fails on a function that grows past 60 lines. A folder joins
 * once `node scripts/long-functions.mjs <folder>` prints none; that script lists the rest of the tree.
 */
const SCREEN_SIZED = [
  'shared/core',
  'shared/ports',
  'shared/composition',
  'shared/config',
  'shared/standalone',
  'shared/adapters',
  'simulator',
  'functions',
  'scripts',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'infra/**', '.package/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        Request: 'readonly',
        Response: 'readonly',
        Headers: 'readonly',
        ReadableStream: 'readonly',
        TransformStream: 'readonly',
        WritableStream: 'readonly',
        fetch: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Lines are at most 120 characters, strings, comments and URLs included (ADR 0034): Prettier breaks code
      // at the same width but never a string, a template literal, a comment or a test title.
      'max-len': ['error', { code: 120 }],
    },
  },
  {
    files: ['shared/core/**/*.ts'],
    ignores: ['shared/core/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: azureAndDurable }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'shared/core reads no environment: configuration is injected.' },
        { object: 'Date', property: 'now', message: 'shared/core takes time from an injected Clock.' },
      ],
    },
  },
  {
    files: ['shared/ports/**/*.ts'],
    ignores: ['shared/ports/**/*.test.ts', 'shared/ports/**/*.contract.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: azureAndDurable.slice(0, 2) }],
    },
  },
  {
    files: ['shared/**/*.ts', 'simulator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/functions', 'durable-functions'],
              message: 'Functions packages belong in functions/ only.',
            },
          ],
        },
      ],
    },
    ignores: ['shared/core/**', 'shared/ports/**'],
  },
  {
    files: ['shared/adapters/memory/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@azure/*', 'durable-functions'], message: 'Memory adapters use no Azure SDK.' }] },
      ],
    },
  },
  {
    // Production code: everything but tests, contract suites and test-support folders. The scheduler bench
    // drives the scheduler on synthetic time with the fake clock: a tool, not the gateway.
    files: ['shared/**/*.ts', 'functions/**/*.ts', 'simulator/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.contract.ts', '**/test-support/**', 'simulator/bench/**'],
    rules: { 'no-restricted-syntax': ['error', ...testSupportOnly] },
  },
  {
    files: SCREEN_SIZED.flatMap((folder) => [`${folder}/**/*.ts`, `${folder}/**/*.mjs`]),
    // Test files and contract suites are `describe` blocks, long by nature; test support is held to the rule.
    ignores: ['**/*.test.ts', '**/*.contract.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
);
