/**
 * Building `ShotFailure`s (src/core/events.ts), the one failure type (style.md): what the engine returns,
 * what `shot-failed` events carry, what `BuildOutcome.failed` lists and what the CLI prints. `reason` is the
 * closed union `ShotFailureReason`, so every reporter can switch over it.
 */
export type { ShotFailure } from '../core/events.ts';
import type { VideoId } from '../core/brand.ts';
import type { ShotFailure, ShotFailureReason } from '../core/events.ts';
import type { ProviderError } from '../provider/types.ts';
import type { ProviderErrorKind } from '../provider/types.ts';
import { unreachable } from '../core/unreachable.ts';

/** The hint of every failure that leaves a paid job in the journal (design.md: only the service ends a job). */
export const PAID_AND_KEPT = 'paid for and kept; the next build downloads it (nothing is generated again)';

/** A failure the provider reported (after the engine's retries, where it retries). */
export function providerFailure(error: ProviderError, videoId: VideoId | null): ShotFailure {
  const reason = reasonOf(error.kind);
  return {
    reason,
    message: error.message,
    code: error.code ?? null,
    videoId,
    retryable: reason === 'rate-limited' || reason === 'server' || reason === 'connection',
    hint:
      reason === 'auth'
        ? 'check the provider credentials (OPENAI_API_KEY, AZURE_OPENAI_API_KEY, or Entra ID sign-in)'
        : reason === 'moderation-blocked'
          ? 'change the prompt or reference image; the same request will be refused again'
          : null,
  };
}

/**
 * A transport failure (poll, List or download unreachable, a truncated body, a disk error) on a job the
 * service accepted: the shot fails for this run, the job stays in the journal.
 */
export function keptFailure(failure: ShotFailure, videoId: VideoId): ShotFailure {
  return { ...failure, videoId, retryable: true, hint: PAID_AND_KEPT };
}

/**
 * Errno codes that mean "this disk or folder cannot be written" (full, failing, read-only, not ours, or a
 * file where a folder must be, as when `out` is a file): the shot fails, nothing else stops.
 */
const LOCAL_IO_CODES = new Set([
  'ENOSPC',
  'EIO',
  'EACCES',
  'EPERM',
  'EROFS',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
]);

/** The errno code of a file-system error we turn into a shot failure; undefined for anything else (a bug). */
export function localIoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && LOCAL_IO_CODES.has(code) ? code : undefined;
}

/** A failed write or read on this machine, with the path and the error code. */
export function localIoFailure(
  error: unknown,
  what: string,
  videoId: VideoId | null,
  options: { readonly paid?: boolean } = {},
): ShotFailure {
  const code = localIoCode(error) ?? null;
  const path = (error as { path?: unknown } | null)?.path;
  const where = typeof path === 'string' ? ` (${path})` : '';
  const detail = error instanceof Error ? error.message : String(error);
  // Node's own messages already start with the code ("ENOSPC: no space left on device, write"): say it once.
  const said = code !== null && detail.startsWith(`${code}:`) ? detail : `${code ?? 'error'}: ${detail}`;
  return {
    reason: 'local-io',
    message: `${what} failed${where}: ${said}`,
    code,
    videoId,
    retryable: true,
    hint: options.paid === true ? PAID_AND_KEPT : 'free some space or fix the permissions, then build again',
  };
}

/** Runs `fn`; a file-system error becomes a `local-io` failure, anything else is rethrown (a bug). */
export async function guardLocalIo<T>(
  what: string,
  videoId: VideoId | null,
  fn: () => Promise<T>,
  options: { readonly paid?: boolean } = {},
): Promise<{ readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: ShotFailure }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (localIoCode(error) === undefined) throw error;
    return { ok: false, failure: localIoFailure(error, what, videoId, options) };
  }
}

function reasonOf(kind: ProviderErrorKind): ShotFailureReason {
  switch (kind) {
    case 'rate-limited':
      return 'rate-limited';
    case 'auth':
      return 'auth';
    case 'not-found':
      return 'lost-job';
    case 'invalid-request':
      return 'invalid-request';
    case 'moderation-blocked':
      return 'moderation-blocked';
    case 'server':
      return 'server';
    case 'connection':
      return 'connection';
    default:
      return unreachable(kind);
  }
}

/** Whether submitting the shot again, unchanged, would pay for a new job the service is likely to refuse too. */
export function wouldPayAgain(reason: ShotFailureReason): boolean {
  switch (reason) {
    case 'job-failed':
    case 'moderation-blocked':
    case 'invalid-request':
    case 'parent-expired':
    case 'auth':
    case 'reference-image':
    case 'lost-job':
    case 'video-expired':
      return true;
    case 'rate-limited':
    case 'server':
    case 'connection':
    case 'download-corrupt':
    case 'unreconciled':
    case 'local-io':
    case 'frozen':
      return false;
    default:
      return unreachable(reason);
  }
}
