/**
 * Downloading a finished job's content into the store: streamed, hashed, verified (an MP4 of the asked
 * size and length, or the image a variant must be), fsynced, renamed. Truncated or corrupt bodies and
 * transport errors are retried here (the engine's one retry layer for downloads) with a `retry` event each.
 * Only the service ends a paid job: a 404 (the video expired or was deleted) is `gone`; every other failure
 * leaves the job to the next build.
 */
import { open } from 'node:fs/promises';
import type { Sha256, VideoId } from '../core/brand.ts';
import { checkMp4, compareMp4ToRequest } from '../cache/mp4-check.ts';
import { isRetryable, retryDelay } from '../scheduler/retry-policy.ts';
import type { OutputAsset, OutputRef } from '../provider/job-api.ts';
import { ProviderError } from '../provider/types.ts';
import type { JobContext, JobSpec } from './job-types.ts';
import { MAX_READ_ATTEMPTS, retryReason } from './read-retries.ts';
import { NOT_STARTED, runInLane } from './lanes.ts';
import { localIoCode, localIoFailure, providerFailure } from './shot-failure.ts';
import type { ShotFailure } from './shot-failure.ts';

export type VariantResult =
  | { readonly ok: true; readonly digest: Sha256; readonly bytes: number }
  /** `gone`: the service no longer has the video (404), which ends the job; otherwise it is kept. */
  | { readonly ok: false; readonly failure: ShotFailure; readonly gone: boolean }
  | { readonly ok: false; readonly failure: 'interrupted'; readonly gone: false };

/** What a download needs to know about the shot. */
export type DownloadSpec = Pick<JobSpec, 'shot' | 'expected'>;

/**
 * Streams one output (a variant's video or asset) into the store, verified; retries truncated or corrupt
 * downloads. `videoId` is the job's remote id, for events and messages.
 */
export async function downloadVariant(
  spec: DownloadSpec,
  ctx: JobContext,
  videoId: VideoId,
  ref: OutputRef,
  signal: AbortSignal,
  expectedDigest?: Sha256,
): Promise<VariantResult> {
  const variant = ref.asset;
  const interrupted = { ok: false, failure: 'interrupted', gone: false } as const;
  let lastProblem = '';
  for (let attempt = 1; attempt <= MAX_READ_ATTEMPTS; attempt++) {
    let problem: {
      message: string;
      reason: 'download-corrupt' | 'server' | 'connection' | 'rate-limited';
      retryAfterMs?: number | undefined;
    };
    try {
      const outcome = await runInLane(
        ctx.lanes.downloads,
        () => downloadOnce(spec, ctx, videoId, ref, signal, expectedDigest),
        { signal },
      );
      if (outcome === NOT_STARTED) return interrupted;
      if (outcome.ok) return outcome;
      problem = { reason: 'download-corrupt', message: outcome.message };
    } catch (error) {
      if (signal.aborted) return interrupted;
      if (localIoCode(error) !== undefined) {
        return {
          ok: false,
          failure: localIoFailure(error, `storing the ${variant} of ${videoId}`, videoId, { paid: true }),
          gone: false,
        };
      }
      if (!(error instanceof ProviderError)) throw error;
      if (error.kind === 'not-found') {
        return {
          ok: false,
          gone: true,
          failure: {
            reason: 'video-expired',
            message: `the finished video ${videoId} is no longer on the service (expired or deleted) and was not downloaded`,
            code: error.code ?? null,
            videoId,
            retryable: true,
            hint: 'run the build again to generate it anew',
          },
        };
      }
      if (!isRetryable(error, 'download')) {
        return { ok: false, failure: providerFailure(error, videoId), gone: false };
      }
      problem = { reason: retryReason(error), message: error.message, retryAfterMs: error.retryAfterMs };
    }
    lastProblem = problem.message;
    if (attempt === MAX_READ_ATTEMPTS) break;
    const delayMs = retryDelay({
      attempt,
      retryAfterMs: problem.retryAfterMs,
      baseMs: 500,
      maxMs: 10_000,
      jitter: ctx.random,
    });
    ctx.emit({
      type: 'retry',
      time: ctx.clock.now(),
      shot: spec.shot,
      operation: 'download',
      attempt: attempt + 1,
      delayMs,
      reason: problem.reason,
      message: problem.message,
    });
    try {
      await ctx.clock.sleep(delayMs, signal);
    } catch {
      return interrupted;
    }
  }
  return {
    ok: false,
    gone: false,
    failure: {
      reason: 'download-corrupt',
      message: `every download of ${videoId} (${variant}) failed; nothing was stored. Last problem: ${lastProblem}`,
      code: null,
      videoId,
      retryable: true,
      hint: null,
    },
  };
}

/** One attempt; a bad body is returned as `{ok: false}`, provider and disk errors are thrown. */
async function downloadOnce(
  spec: DownloadSpec,
  ctx: JobContext,
  videoId: VideoId,
  ref: OutputRef,
  signal: AbortSignal,
  expectedDigest: Sha256 | undefined,
): Promise<{ ok: true; digest: Sha256; bytes: number } | { ok: false; message: string }> {
  const variant = ref.asset;
  ctx.emit({ type: 'download-started', time: ctx.clock.now(), shot: spec.shot, videoId, variant });
  const download = await (await ctx.provider()).fetch(ref, signal);
  const ingested = await ctx.store.ingest(download.body, {
    expected: {
      ...(download.contentLength === null ? {} : { bytes: download.contentLength }),
      ...(expectedDigest === undefined ? {} : { sha256: expectedDigest }),
    },
    // With a pinned digest the bytes are known exactly; otherwise they must parse as what was asked for.
    ...(expectedDigest === undefined
      ? { verify: (path: string) => verifyVariant(path, variant, spec.expected) }
      : {}),
    signal,
  });
  if (ingested.ok) {
    ctx.emit({
      type: 'download-finished',
      time: ctx.clock.now(),
      shot: spec.shot,
      videoId,
      variant,
      bytes: ingested.value.bytes,
      digest: ingested.value.digest,
    });
    return { ok: true, digest: ingested.value.digest, bytes: ingested.value.bytes };
  }
  const f = ingested.error;
  return {
    ok: false,
    message:
      f.reason === 'truncated'
        ? `the ${variant} download was cut short (${f.receivedBytes} of ${f.expectedBytes} bytes)`
        : f.reason === 'too-long'
          ? `the ${variant} download was longer than announced`
          : f.reason === 'stream-error'
            ? `the ${variant} download failed: ${f.message}`
            : f.reason === 'verify-failed'
              ? f.error
              : `the ${variant} download did not match its digest`,
  };
}

const IMAGE_MAGIC: Readonly<
  Record<'thumbnail' | 'spritesheet', { test: (b: Buffer) => boolean; name: string }>
> = {
  thumbnail: {
    name: 'WebP or JPEG image',
    test: (b) =>
      (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') ||
      (b[0] === 0xff && b[1] === 0xd8) ||
      b.toString('latin1', 1, 4) === 'PNG',
  },
  spritesheet: {
    name: 'JPEG, WebP or PNG image',
    test: (b) =>
      (b[0] === 0xff && b[1] === 0xd8) ||
      b.toString('latin1', 8, 12) === 'WEBP' ||
      b.toString('latin1', 1, 4) === 'PNG',
  },
};

async function verifyVariant(
  path: string,
  variant: OutputAsset,
  expected: JobSpec['expected'],
): Promise<{ ok: true; value: undefined } | { ok: false; error: string }> {
  if (variant === 'video') {
    const checked = await checkMp4(path);
    if (!checked.ok)
      return { ok: false, error: `the downloaded video is not a valid MP4: ${checked.error.message}` };
    const mismatches = compareMp4ToRequest(checked.value, expected, { toleranceSeconds: 0.25 });
    if (mismatches.length > 0) {
      const text = mismatches
        .map((m) => `${m.field} is ${String(m.actual)}, expected ${String(m.expected)}`)
        .join('; ');
      return { ok: false, error: `the downloaded video does not match the request: ${text}` };
    }
    return { ok: true, value: undefined };
  }
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    await handle.read(head, 0, 16, 0);
    const magic = IMAGE_MAGIC[variant];
    return magic.test(head)
      ? { ok: true, value: undefined }
      : { ok: false, error: `the downloaded ${variant} is not a ${magic.name}` };
  } finally {
    await handle.close();
  }
}
