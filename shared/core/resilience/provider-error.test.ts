import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS, parseProviderError, providerErrorKind, type ProviderErrorKind } from './provider-error.js';

/** Error bodies as the providers send them (messages shortened where they run on). */
const rows: [name: string, status: number, body: unknown, kind: ProviderErrorKind | undefined][] = [
  [
    'OpenAI context_length_exceeded',
    400,
    {
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    },
    'context-length',
  ],
  [
    'Azure OpenAI context_length_exceeded',
    400,
    { error: { message: 'Requested tokens exceed context window', code: 'context_length_exceeded', status: 400 } },
    'context-length',
  ],
  [
    'vLLM copies the message without the code',
    400,
    { object: 'error', message: 'x', error: { message: "This model's maximum context length is 4096 tokens." } },
    'context-length',
  ],
  [
    'OpenAI Responses API',
    400,
    { error: { message: 'Your input exceeds the context window of this model.', type: 'invalid_request_error' } },
    'context-length',
  ],
  [
    'Anthropic prompt too long',
    400,
    {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' },
    },
    'context-length',
  ],
  [
    'Anthropic input + max_tokens over the limit',
    400,
    {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000',
      },
    },
    'context-length',
  ],
  [
    'Gemini input token count',
    400,
    {
      error: {
        code: 400,
        message: 'The input token count (1100000) exceeds the maximum number of tokens allowed (1048576).',
        status: 'INVALID_ARGUMENT',
      },
    },
    'context-length',
  ],
  [
    'Azure OpenAI content filter (code and innererror)',
    400,
    {
      error: {
        message: 'The response was filtered',
        code: 'content_filter',
        innererror: { code: 'ResponsibleAIPolicyViolation' },
      },
    },
    'content-filter',
  ],
  [
    'Azure OpenAI innererror only',
    400,
    { error: { message: 'filtered', code: 'BadRequest', innererror: { code: 'ResponsibleAIPolicyViolation' } } },
    'content-filter',
  ],
  [
    'OpenAI content_policy_violation',
    400,
    { error: { code: 'content_policy_violation', message: 'x' } },
    'content-filter',
  ],
  ['OpenAI invalid_prompt', 400, { error: { code: 'invalid_prompt', message: 'flagged' } }, 'content-filter'],
  [
    'Azure OpenAI DeploymentNotFound',
    404,
    {
      error: {
        code: 'DeploymentNotFound',
        message:
          'The API deployment for this resource does not exist. If you created the ' +
          'deployment within the last 5 minutes, please wait a moment and try again.',
      },
    },
    'deployment-not-found',
  ],
  [
    'OpenAI model_not_found',
    404,
    {
      error: {
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    },
    'deployment-not-found',
  ],
  [
    'Anthropic model not found',
    404,
    { type: 'error', error: { type: 'not_found_error', message: 'model: claude-nine' } },
    'deployment-not-found',
  ],
  [
    'Gemini model not found',
    404,
    {
      error: {
        code: 404,
        message: 'models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.',
        status: 'NOT_FOUND',
      },
    },
    'deployment-not-found',
  ],
  [
    'vLLM model does not exist',
    404,
    { error: { message: 'The model `llama-9` does not exist.', type: 'NotFoundError', code: 404 } },
    'deployment-not-found',
  ],
  [
    'a missing response id stays a plain 404',
    404,
    { error: { message: "No response found with id 'resp_1'.", type: 'invalid_request_error', code: 'not_found' } },
    undefined,
  ],
  [
    'a missing file stays a plain 404',
    404,
    { error: { message: 'No such File object: file-abc', type: 'invalid_request_error', param: 'id', code: null } },
    undefined,
  ],
  [
    'Anthropic not_found_error for something else stays a plain 404',
    404,
    { type: 'error', error: { type: 'not_found_error', message: 'Not found: batch msgbatch_1' } },
    undefined,
  ],
  [
    'DeploymentNotFound with another status is not a missing deployment',
    400,
    { error: { code: 'DeploymentNotFound', message: 'x' } },
    undefined,
  ],
  [
    'Anthropic refuses a prefill',
    400,
    {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message:
          'This model does not support assistant message prefill. The conversation must end with a user message.',
      },
    },
    'prefill-rejected',
  ],
  [
    'Anthropic refuses trailing whitespace in a prefill',
    400,
    {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'final assistant content cannot end with trailing whitespace' },
    },
    'prefill-rejected',
  ],
  [
    'Mistral expects a user last',
    400,
    {
      object: 'error',
      message: 'x',
      error: {
        message: 'Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant',
      },
    },
    'prefill-rejected',
  ],
  ['OpenAI insufficient_quota', 429, { error: { code: 'insufficient_quota', message: 'x' } }, 'quota-exhausted'],
  ['insufficient_quota on another status is nothing', 500, { error: { code: 'insufficient_quota' } }, undefined],
  ['OpenAI string_above_max_length', 400, { error: { code: 'string_above_max_length' } }, 'caller-fault'],
  ['an ordinary 500', 500, { error: { message: 'The server had an error', type: 'server_error' } }, undefined],
];

describe('providerErrorKind over real error bodies', () => {
  it.each(rows)('%s', (_name, status, body, kind) => {
    expect(providerErrorKind(status, parseProviderError(JSON.stringify(body)))).toBe(kind);
  });

  it('knows nothing without a body', () => {
    expect(providerErrorKind(404, undefined)).toBeUndefined();
  });
});

describe('parseProviderError', () => {
  it('reads the deciding fields of each shape', () => {
    expect(parseProviderError('{"error":{"code":"x","type":"t","message":"m","innererror":{"code":"i"}}}')).toEqual({
      code: 'x',
      innerCode: 'i',
      type: 't',
      googleStatus: undefined,
      message: 'm',
    });
    expect(parseProviderError('{"error":{"code":404,"status":"NOT_FOUND","message":"m"}}')).toMatchObject({
      code: undefined,
      googleStatus: 'NOT_FOUND',
    });
  });

  it('is undefined for bodies that are not an error object', () => {
    for (const text of ['not json', '[]', '{"error":"text"}', '{}', 'null'])
      expect(parseProviderError(text), text).toBeUndefined();
  });

  it('bounds the message it keeps', () => {
    const long = 'm'.repeat(MAX_MESSAGE_CHARS * 3);
    expect(parseProviderError(JSON.stringify({ error: { message: long } }))?.message).toHaveLength(MAX_MESSAGE_CHARS);
  });
});
