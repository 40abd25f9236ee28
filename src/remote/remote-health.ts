/**
 * Whether the remote cache is still worth asking, shared by the cache and the claims of one process. The
 * remote cache is an optimisation: the first failure that is not an expected answer (a refused connection, a
 * timeout, a 5xx after the SDK's retries, a 403) turns it off for the rest of the process with ONE warning,
 * and the build goes on with the local store only. Never a build failure.
 *
 * Messages name the error's code and status, never the error's own text: the SDK's messages quote request
 * URLs, and a SAS URL is a secret.
 */
export interface RemoteHealthOptions {
  /** Says something to the user (once per distinct problem; see the callers). */
  readonly warn: (message: string) => void;
}

export class RemoteHealth {
  readonly #warn: (message: string) => void;
  #down = false;

  constructor(options: RemoteHealthOptions) {
    this.#warn = options.warn;
  }

  get down(): boolean {
    return this.#down;
  }

  /** Turns the remote cache off after `error` while `doing` something; warns the first time only. */
  fail(error: unknown, doing: string): void {
    if (this.#down) return;
    this.#down = true;
    this.#warn(
      `the remote cache failed while ${doing} (${describeError(error)}); building with the local store only`,
    );
  }

  /** A warning about one entry or object (not a reason to stop using the remote cache). */
  warn(message: string): void {
    this.#warn(message);
  }
}

/** `403 AuthorizationPermissionMismatch`, `ECONNREFUSED`: the code and status only (see the note above). */
export function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const e = error as { statusCode?: unknown; code?: unknown; name?: unknown; cause?: unknown };
  const parts: string[] = [];
  if (typeof e.statusCode === 'number') parts.push(String(e.statusCode));
  if (typeof e.code === 'string' && /^[A-Za-z0-9_.-]{1,60}$/.test(e.code)) parts.push(e.code);
  else if (typeof e.name === 'string' && e.name !== 'Error' && e.name !== 'RestError') parts.push(e.name);
  if (parts.length === 0 && e.cause !== undefined) return describeError(e.cause);
  return parts.length === 0 ? 'no response' : parts.join(' ');
}

/** The HTTP status of an SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
