import type { ApiKind } from './token-count.js';

/** Why the simulator answers with an error. */
export type ErrorReason =
  | 'status'
  | 'context-length'
  | 'content-filter'
  | 'deployment-not-found'
  | 'prefill-rejected'
  | 'unauthorized'
  | 'invalid-request'
  | 'not-found'
  | 'previous-response-not-found'
  | 'bad-fault-spec'
  | 'too-large';

const OPENAI_TYPES: Readonly<Record<number, [type: string, code: string | null, message: string]>> = {
  400: ['invalid_request_error', null, 'Bad request (simulated).'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided (simulated).'],
  403: ['permission_error', 'forbidden', 'You are not allowed to use this resource (simulated).'],
  404: ['invalid_request_error', 'not_found', 'Not found (simulated).'],
  408: ['timeout', 'timeout', 'Request timed out (simulated).'],
  413: ['invalid_request_error', 'request_too_large', 'Request too large (simulated).'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests (simulated). Please try again later.'],
  500: ['server_error', null, 'The server had an error while processing your request (simulated).'],
  502: ['server_error', null, 'Bad gateway (simulated).'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later (simulated).'],
  504: ['server_error', null, 'Gateway timeout (simulated).'],
};

const ANTHROPIC_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

const GOOGLE_STATUSES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const CONTEXT_LENGTH_MESSAGE =
  "This model's maximum context length is 128000 tokens. However, your " +
  'messages resulted in 130000 tokens. Please reduce the length of the messages.';

/** The Azure OpenAI content-filter error (HTTP 400, code `content_filter`). */
function azureContentFilter(): string {
  const verdict = (filtered: boolean, severity: string): Record<string, unknown> => ({ filtered, severity });
  return JSON.stringify({
    error: {
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's " +
        'content management policy. Please modify your prompt and retry. (simulated)',
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: {
        code: 'ResponsibleAIPolicyViolation',
        content_filter_result: {
          hate: verdict(false, 'safe'),
          jailbreak: { filtered: false, detected: false },
          self_harm: verdict(false, 'safe'),
          sexual: verdict(false, 'safe'),
          violence: verdict(true, 'high'),
        },
      },
    },
  });
}

const PREFILL_REJECTED_MESSAGE =
  'This model does not support assistant message prefill. The conversation must end with a user message. (simulated)';

function openAiError(
  status: number,
  reason: ErrorReason,
  message: string | undefined,
  param: string | null,
  azure: boolean,
): string {
  if (reason === 'content-filter') return azureContentFilter();
  if (reason === 'deployment-not-found') {
    return azure
      ? JSON.stringify({
          error: {
            code: 'DeploymentNotFound',
            message:
              'The API deployment for this resource does not exist. If you created the deployment ' +
              'within the last 5 minutes, please wait a moment and try again. (simulated)',
          },
        })
      : JSON.stringify({
          error: {
            message: 'The model does not exist or you do not have access to it. (simulated)',
            type: 'invalid_request_error',
            param: null,
            code: 'model_not_found',
          },
        });
  }
  if (reason === 'prefill-rejected') {
    return JSON.stringify({
      error: { message: PREFILL_REJECTED_MESSAGE, type: 'invalid_request_error', param: 'messages', code: null },
    });
  }
  if (reason === 'context-length') {
    return JSON.stringify({
      error: {
        message: message ?? CONTEXT_LENGTH_MESSAGE,
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    });
  }
  const known = OPENAI_TYPES[status] ?? (status >= 500 ? OPENAI_TYPES[500] : OPENAI_TYPES[400]);
  const [type, defaultCode, defaultMessage] = known as [string, string | null, string];
  let code = defaultCode;
  if (reason === 'previous-response-not-found') {
    code = 'previous_response_not_found';
    param = 'previous_response_id';
  } else if (reason === 'bad-fault-spec') {
    code = 'sim_bad_fault_spec';
  }
  return JSON.stringify({ error: { message: message ?? defaultMessage, type, param, code } });
}

/**
 * The error body a real backend of this API would send: OpenAI / Azure OpenAI
 * (`{"error":{"message","type","param","code"}}`, content filter in Azure's shape), Anthropic
 * (`{"type":"error","error":{"type","message"}}`), or Google (`{"error":{"code","message","status"}}`).
 * `api` null (unknown path) uses the OpenAI shape. `param` names the request field at fault (OpenAI shape);
 * `azure` picks Azure's variants (`DeploymentNotFound`).
 */
export function errorBody(
  api: ApiKind | null,
  status: number,
  reason: ErrorReason,
  message?: string,
  param: string | null = null,
  azure = false,
): string {
  if (api === 'anthropic') {
    const type =
      reason === 'context-length' || reason === 'content-filter' || reason === 'prefill-rejected'
        ? 'invalid_request_error'
        : (ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'));
    const text =
      message ??
      (reason === 'context-length'
        ? 'prompt is too long: 210000 tokens > 200000 maximum'
        : reason === 'deployment-not-found'
          ? 'model: simulated-missing-model'
          : reason === 'prefill-rejected'
            ? PREFILL_REJECTED_MESSAGE
            : `Simulated ${status} error.`);
    return JSON.stringify({ type: 'error', error: { type, message: text } });
  }
  if (api === 'gemini') {
    const googleStatus = GOOGLE_STATUSES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
    const text =
      message ??
      (reason === 'context-length'
        ? 'The input token count (1100000) exceeds the maximum number of tokens allowed (1048576).'
        : reason === 'content-filter'
          ? 'The request was blocked by safety settings (simulated).'
          : reason === 'deployment-not-found'
            ? 'models/simulated-missing-model is not found for API version v1beta (simulated).'
            : `Simulated ${status} error.`);
    return JSON.stringify({ error: { code: status, message: text, status: googleStatus } });
  }
  return openAiError(status, reason, message, param, azure);
}
