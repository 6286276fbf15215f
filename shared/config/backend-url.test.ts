import { describe, expect, it } from 'vitest';
import { validateConfig } from './load-config.js';
import { backendUrlProblem } from './backend-url.js';

describe('backendUrlProblem', () => {
  it.each([
    ['openai', 'https://api.openai.com'],
    ['openai', 'https://api.openai.com/v1'],
    ['openai', 'https://api.openai.com/v1/'],
    ['openai', 'https://contoso.openai.azure.com/openai/v1'],
    ['openai', 'http://llm.internal:8080/proxy'],
    ['azure-openai', 'https://contoso.openai.azure.com'],
    ['azure-openai', 'https://contoso.openai.azure.com/openai'],
    ['anthropic', 'https://api.anthropic.com/v1'],
    ['gemini', 'https://generativelanguage.googleapis.com/v1beta'],
    ['http', 'https://search.example/v1/chat/completions'],
  ])('accepts a %s backend at %s', (kind, url) => {
    expect(backendUrlProblem(kind, url)).toBeUndefined();
  });

  it('refuses an operation URL and says which base to give', () => {
    expect(backendUrlProblem('openai', 'https://api.openai.com/v1/chat/completions')).toMatch(
      /names an operation, not a base: give "https:\/\/api\.openai\.com\/v1"/,
    );
    expect(backendUrlProblem('anthropic', 'https://api.anthropic.com/v1/messages')).toMatch(
      /give "https:\/\/api\.anthropic\.com\/v1"/,
    );
  });

  it('refuses a deployment URL and names the resource endpoint', () => {
    expect(
      backendUrlProblem('azure-openai', 'https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions'),
    ).toMatch(/names a deployment.*give the resource endpoint "https:\/\/contoso\.openai\.azure\.com"/);
  });

  it("refuses Azure's v1 API on an azure-openai backend and says to use kind openai", () => {
    expect(backendUrlProblem('azure-openai', 'https://contoso.openai.azure.com/openai/v1')).toMatch(
      /use kind "openai" with this url, or give the resource endpoint "https:\/\/contoso\.openai\.azure\.com"/,
    );
  });

  it('is reported by config validation at the backend url', () => {
    const result = validateConfig({
      backends: [{ id: 'a', url: 'http://127.0.0.1:9001/v1/chat/completions' }],
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues).toEqual([expect.stringMatching(/^backends\.0\.url: the url names an operation/)]);
  });
});
