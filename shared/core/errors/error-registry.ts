/**
 * The one registry of errors the gateway itself produces. Every error response carries one of these
 * codes in `error.code` and in the `x-gateway-error-code` header; `docs/errors.md` lists the same table
 * and a test keeps the two in sync.
 *
 * Compatibility: codes are a public contract. A code is never renamed or reused; a retired code stays
 * listed. Statuses and messages may be refined.
 */
export interface ErrorDefinition {
  /** HTTP status the gateway answers with. */
  readonly status: number;
  /** OpenAI-style error `type`. */
  readonly type:
    | 'invalid_request_error'
    | 'authentication_error'
    | 'permission_error'
    | 'not_found_error'
    | 'rate_limit_error'
    | 'server_error'
    | 'timeout_error'
    | 'service_unavailable_error';
  /** True when the same request may succeed later (the response then carries `retry-after` where known). */
  readonly retryable: boolean;
  /** Default human-readable message; a call site may give a more specific one. */
  readonly message: string;
}

export const errorRegistry = {
  GW_ERR_REQUEST_ROUTE_NOT_FOUND: {
    status: 404,
    type: 'not_found_error',
    retryable: false,
    message: 'No route matches this request.',
  },
  GW_ERR_REQUEST_MODEL_NOT_FOUND: {
    status: 404,
    type: 'not_found_error',
    retryable: false,
    message: 'The requested model or deployment is not served by this gateway.',
  },
  GW_ERR_REQUEST_METHOD_NOT_ALLOWED: {
    status: 405,
    type: 'invalid_request_error',
    retryable: false,
    message: 'This method is not allowed on this path.',
  },
  GW_ERR_REQUEST_INVALID_JSON: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The request body is not valid JSON.',
  },
  GW_ERR_REQUEST_INVALID_PARAMETER: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    message: 'A request body field has a value the gateway cannot accept.',
  },
  GW_ERR_REQUEST_MODEL_MISSING: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The request body has no "model" field.',
  },
  GW_ERR_REQUEST_BODY_TOO_LARGE: {
    status: 413,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The request body exceeds the configured limit.',
  },
  GW_ERR_REQUEST_INVALID_HEADER: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    message: 'A request header has an invalid value.',
  },
  GW_ERR_REQUEST_INVALID_QUERY: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    message: 'A query parameter has an invalid value.',
  },
  GW_ERR_REQUEST_INVALID_TARGET: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The request target is not a path this gateway serves.',
  },
  GW_ERR_REQUEST_TIMEOUT: {
    status: 408,
    type: 'timeout_error',
    retryable: true,
    message: 'The request was not received in full within the time allowed.',
  },
  GW_ERR_REQUEST_EXPECTATION_FAILED: {
    status: 417,
    type: 'invalid_request_error',
    retryable: false,
    message: 'Only "Expect: 100-continue" is understood.',
  },
  GW_ERR_REQUEST_INVALID_TTL: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The TTL header has an invalid format.',
  },
  GW_ERR_REQUEST_HEADERS_TOO_LARGE: {
    status: 431,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The request headers are too large.',
  },
  GW_ERR_REQUEST_CLIENT_CLOSED: {
    status: 499,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The caller closed the connection before the answer was complete.',
  },
  GW_ERR_REQUEST_TTL_EXPIRED: {
    status: 412,
    type: 'timeout_error',
    retryable: false,
    message: 'The request expired (TTL) before a backend could serve it.',
  },
  GW_ERR_AUTH_MISSING: {
    status: 401,
    type: 'authentication_error',
    retryable: false,
    message: 'No credentials were presented.',
  },
  GW_ERR_AUTH_INVALID_KEY: {
    status: 401,
    type: 'authentication_error',
    retryable: false,
    message: 'The API key is not valid.',
  },
  GW_ERR_AUTH_INVALID_TOKEN: {
    status: 401,
    type: 'authentication_error',
    retryable: false,
    message: 'The access token is not valid.',
  },
  GW_ERR_AUTH_APP_NOT_ALLOWED: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    message: 'The calling application is not allowed.',
  },
  GW_ERR_AUTH_PROFILE_NOT_FOUND: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    message: 'The caller profile was not found.',
  },
  GW_ERR_AUTH_SUSPENDED: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    message: 'The caller is suspended.',
  },
  GW_ERR_AUTH_ADMIN_REQUIRED: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    message: 'This endpoint requires an admin credential.',
  },
  GW_ERR_POLICY_MODEL_NOT_ALLOWED: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    message: 'The caller may not use this model or route.',
  },
  GW_ERR_POLICY_REQUIRED_HEADER: {
    status: 417,
    type: 'invalid_request_error',
    retryable: false,
    message: 'A required header is missing.',
  },
  GW_ERR_POLICY_HEADER_RULE: {
    status: 417,
    type: 'invalid_request_error',
    retryable: false,
    message: 'A header failed a validation rule.',
  },
  GW_ERR_POLICY_ASYNC_NOT_ALLOWED: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    message: 'Async mode is not allowed for this caller.',
  },
  GW_ERR_QUOTA_EXCEEDED: {
    status: 429,
    type: 'rate_limit_error',
    retryable: true,
    message: 'The token quota for this caller is spent.',
  },
  GW_ERR_QUEUE_FULL: {
    status: 429,
    type: 'rate_limit_error',
    retryable: true,
    message: 'The queue for this priority level is full.',
  },
  GW_ERR_ASYNC_BACKLOG_FULL: {
    status: 429,
    type: 'rate_limit_error',
    retryable: true,
    message: 'Queued async jobs hold as many request bytes as allowed; retry when some have finished.',
  },
  GW_ERR_BACKEND_THROTTLED: {
    status: 429,
    type: 'rate_limit_error',
    retryable: true,
    message: 'Every backend is throttling; retry after the indicated time.',
  },
  GW_ERR_BACKEND_ALL_OPEN: {
    status: 503,
    type: 'service_unavailable_error',
    retryable: true,
    message: 'Every backend is unavailable (circuit open).',
  },
  GW_ERR_BACKEND_EXHAUSTED: {
    status: 502,
    type: 'server_error',
    retryable: true,
    message: 'Every backend attempt failed.',
  },
  GW_ERR_BACKEND_TIMEOUT: {
    status: 504,
    type: 'timeout_error',
    retryable: true,
    message: 'The backend did not answer in time.',
  },
  GW_ERR_BACKEND_NONE_CONFIGURED: {
    status: 503,
    type: 'service_unavailable_error',
    retryable: false,
    message: 'The route has no usable backend.',
  },
  GW_ERR_STREAM_INTERRUPTED: {
    status: 502,
    type: 'server_error',
    retryable: true,
    message: 'The backend stream ended before the answer was complete.',
  },
  GW_ERR_STREAM_IDLE_TIMEOUT: {
    status: 504,
    type: 'timeout_error',
    retryable: true,
    message: 'The backend stream stalled.',
  },
  GW_ERR_JOB_NOT_FOUND: { status: 404, type: 'not_found_error', retryable: false, message: 'No such job.' },
  GW_ERR_JOB_NOT_READY: {
    status: 409,
    type: 'invalid_request_error',
    retryable: true,
    message: 'The job has no result yet.',
  },
  GW_ERR_JOB_RESULT_EXPIRED: {
    status: 410,
    type: 'invalid_request_error',
    retryable: false,
    message: 'The job result has expired.',
  },
  GW_ERR_JOB_RECORD_UNREADABLE: {
    status: 410,
    type: 'server_error',
    retryable: false,
    message: "The job's stored record cannot be read; its result is lost. Submit the request again.",
  },
  GW_ERR_SERVICE_SHUTTING_DOWN: {
    status: 503,
    type: 'service_unavailable_error',
    retryable: true,
    message: 'The gateway is shutting down.',
  },
  GW_ERR_SERVICE_OVERLOADED: {
    status: 503,
    type: 'service_unavailable_error',
    retryable: true,
    message: 'The gateway holds as many request bodies as it may; retry shortly.',
  },
  GW_ERR_SERVICE_NOT_READY: {
    status: 503,
    type: 'service_unavailable_error',
    retryable: true,
    message: 'The gateway is not ready.',
  },
  GW_ERR_SERVICE_NOT_CONFIGURED: {
    status: 503,
    type: 'service_unavailable_error',
    retryable: false,
    message: 'The gateway refuses its configuration and serves no calls until it is fixed.',
  },
  GW_ERR_STORAGE_UNAVAILABLE: {
    status: 503,
    type: 'service_unavailable_error',
    retryable: true,
    message: 'The gateway storage (Azure Storage) cannot be reached.',
  },
  GW_ERR_INTERNAL: { status: 500, type: 'server_error', retryable: true, message: 'An internal error occurred.' },
} as const satisfies Record<string, ErrorDefinition>;

/** Every error code the gateway can produce. */
export type ErrorCode = keyof typeof errorRegistry;
