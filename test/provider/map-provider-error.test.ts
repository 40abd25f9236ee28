import { describe, expect, it } from 'vitest';
import {
  deliveryOfNetworkError,
  kindOfStatus,
  parseErrorBody,
  retryAfterMs,
  sanitizeCause,
} from '../../src/provider/map-provider-error.ts';
import { SecretRedactor } from '../../src/provider/redact.ts';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  it.each([
    [{ 'retry-after-ms': '1500.5' }, 1500.5],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after': '3' }, 3000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': 'Wed, 25 Nov 2026 12:00:42 GMT' }, 42_000],
    [{ 'retry-after': 'Wed, 25 Nov 2026 11:59:00 GMT' }, 0],
    [{ 'retry-after-ms': 'soon', 'retry-after': '2' }, 2000],
    [{ 'retry-after': 'later' }, undefined],
    [{}, undefined],
  ])('%j -> %s', (headers, expected) => {
    expect(retryAfterMs(new Headers(headers), now)).toBe(expected);
  });
});

describe('deliveryOfNetworkError', () => {
  it.each([
    [
      'refused, nested as undici does',
      new TypeError('fetch failed', { cause: withCode('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED') }),
      'no',
    ],
    [
      'unknown host',
      new TypeError('fetch failed', {
        cause: withCode('getaddrinfo ENOTFOUND nowhere.invalid', 'ENOTFOUND'),
      }),
      'no',
    ],
    [
      'refused inside an AggregateError (happy eyeballs)',
      new TypeError('fetch failed', {
        cause: new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')]),
      }),
      'no',
    ],
    [
      'reset after sending',
      new TypeError('fetch failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }),
      'maybe',
    ],
    [
      'other side closed',
      new TypeError('fetch failed', { cause: withCode('other side closed', 'UND_ERR_SOCKET') }),
      'maybe',
    ],
    ['no code at all', new Error('boom'), 'maybe'],
  ])('%s -> %s', (_name, error, expected) => {
    expect(deliveryOfNetworkError(error)).toBe(expected);
  });
});

describe('kindOfStatus', () => {
  it.each([
    [400, undefined, 'invalid-request'],
    [400, 'moderation_blocked', 'moderation-blocked'],
    [400, 'content_policy_violation', 'moderation-blocked'],
    [401, undefined, 'auth'],
    [403, undefined, 'auth'],
    [404, undefined, 'not-found'],
    [408, undefined, 'server'],
    [409, undefined, 'invalid-request'],
    [422, undefined, 'invalid-request'],
    [429, undefined, 'rate-limited'],
    [500, 'moderation_blocked', 'server'],
    [503, undefined, 'server'],
  ] as const)('%i %s -> %s', (status, code, expected) => {
    expect(kindOfStatus(status, code)).toBe(expected);
  });
});

describe('parseErrorBody', () => {
  it('reads the wrapped OpenAI shape, the flat Sora 1 shape, and Azure inner_error moderation codes', () => {
    expect(
      parseErrorBody({ error: { message: 'm', type: 't', param: 'size', code: 'invalid_value' } }),
    ).toEqual({
      message: 'm',
      code: 'invalid_value',
      param: 'size',
    });
    expect(parseErrorBody({ code: 'invalid_request', message: 'flat', param: null })).toEqual({
      message: 'flat',
      code: 'invalid_request',
      param: undefined,
    });
    expect(
      parseErrorBody({
        error: {
          code: 'content_filter_error',
          message: 'no',
          inner_error: { code: 'ResponsibleAIPolicyViolation' },
        },
      }),
    ).toEqual({ message: 'no', code: 'ResponsibleAIPolicyViolation', param: undefined });
    expect(parseErrorBody('not json')).toEqual({ message: undefined, code: undefined, param: undefined });
  });
});

describe('sanitizeCause', () => {
  it('copies the chain with secrets removed and keeps codes', () => {
    const redactor = new SecretRedactor();
    redactor.add('my-secret-key-123');
    const original = new Error('outer my-secret-key-123', {
      cause: withCode('Authorization: Bearer abcdefghijklmnop', 'E1'),
    });
    const copy = sanitizeCause(original, redactor)!;
    expect(copy.message).toBe('outer [redacted]');
    expect(copy.stack).toBe('Error: outer [redacted]');
    expect((copy.cause as Error).message).toBe('Authorization: Bearer [redacted]');
    expect((copy.cause as Error & { code: string }).code).toBe('E1');
    expect(copy).not.toBe(original);
  });
});
