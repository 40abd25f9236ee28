/**
 * Error answers in the OpenAI shape, `{"error":{"message","type","param","code"}}` (spec `ErrorResponse`), with
 * the messages the service uses where public responses show them (openai-videos-contract.md section 3).
 */
export interface ApiError {
  readonly status: number;
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers (429: Retry-After and friends). */
  readonly headers?: Readonly<Record<string, string>>;
}

export function errorBody(error: ApiError): string {
  return JSON.stringify({
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  });
}

export function invalidRequest(
  message: string,
  param: string | null = null,
  code: string | null = null,
): ApiError {
  return { status: 400, message, type: 'invalid_request_error', param, code };
}

/** How the service names a JSON value's type in "Invalid type for ..." messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object' && value !== null && 'bytes' in value) return 'a file';
  return 'an object';
}

/** "'a', 'b', and 'c'" (two items: "'a' and 'b'"). */
export function quoteList(values: readonly string[], conjunction = 'and'): string {
  const quoted = values.map((v) => `'${v}'`);
  if (quoted.length <= 2) return quoted.join(` ${conjunction} `);
  return `${quoted.slice(0, -1).join(', ')}, ${conjunction} ${quoted[quoted.length - 1]}`;
}

export function invalidType(param: string, expected: string, value: unknown): ApiError {
  return invalidRequest(
    `Invalid type for '${param}': expected ${expected}, but got ${describeType(value)} instead.`,
    param,
    'invalid_type',
  );
}

export function invalidValue(param: string, value: string, supported: readonly string[]): ApiError {
  return invalidRequest(
    `Invalid value: '${value}'. Supported values are: ${quoteList(supported)}.`,
    param,
    'invalid_value',
  );
}

export function missingParameter(param: string): ApiError {
  return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
}

export function unknownParameter(param: string): ApiError {
  return invalidRequest(`Unknown parameter: '${param}'.`, param, 'unknown_parameter');
}

export function videoNotFound(id: string, param: string | null = null): ApiError {
  return {
    status: 404,
    message: `Video with id '${id}' not found.`,
    type: 'invalid_request_error',
    param,
    code: null,
  };
}

export function invalidUrl(method: string, path: string): ApiError {
  return {
    status: 404,
    message: `Invalid URL (${method} ${path})`,
    type: 'invalid_request_error',
    param: null,
    code: null,
  };
}

export function serverError(
  message = 'The server had an error while processing your request. Sorry about that!',
): ApiError {
  return { status: 500, message, type: 'server_error', param: null, code: null };
}
