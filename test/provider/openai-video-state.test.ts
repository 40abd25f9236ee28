/**
 * The status/answer mapping of OpenAI-shaped `/videos` answers (openai-video-state.ts): every status a
 * gateway is known to send, a completion without a video, failures by kind, odd progress figures.
 */
import { describe, expect, it } from 'vitest';
import type { JobHandle } from '../../src/provider/job-api.ts';
import {
  contentProbeFailure,
  progressOf,
  readVideoAnswer,
  videoJobState,
  videoPhase,
} from '../../src/provider/openai-video-state.ts';
import { ProviderError } from '../../src/provider/types.ts';

const handle: JobHandle = {
  type: 'openai',
  provider: 'gw',
  id: 'video_bGl0ZWxsbTp+/x==',
  model: 'veo-3.1',
  createdAt: 1_700_000_000_000,
};

describe('videoPhase', () => {
  it.each([
    ['queued', 'queued'],
    ['QUEUED', 'queued'],
    ['submitted', 'queued'],
    ['NOT_START', 'queued'],
    ['unknown', 'queued'],
    ['pending', 'queued'],
    ['in_progress', 'running'],
    ['IN_PROGRESS', 'running'],
    ['processing', 'running'],
    ['In-Progress', 'running'],
    ['completed', 'completed'],
    ['SUCCESS', 'completed'],
    ['succeeded', 'completed'],
    ['failed', 'failed'],
    ['FAILURE', 'failed'],
    ['cancelled', 'cancelled'],
    ['CANCELED', 'cancelled'],
    ['expired', 'expired'],
  ])('%s is %s', (status, phase) => {
    expect(videoPhase(status)).toBe(phase);
  });

  it.each(['rendering-soon', '', 42, null, undefined])('%j is not known', (status) => {
    expect(videoPhase(status)).toBeUndefined();
  });
});

describe('videoJobState', () => {
  const state = (answer: Record<string, unknown>) => videoJobState(answer, { handle, pollAfterMs: 250 });

  it('keeps an unknown status polling and shows it, never ends the job on it', () => {
    expect(state({ status: 'warming_up' })).toEqual({ state: 'unknown', raw: 'warming_up' });
    expect(state({})).toEqual({ state: 'unknown', raw: 'undefined' });
  });

  it('reads progress from a number, a "50%" string, or nothing', () => {
    expect(state({ status: 'processing' })).toEqual({ state: 'running', progress: null, pollAfterMs: 250 });
    expect(state({ status: 'IN_PROGRESS', progress: '50%' })).toEqual({
      state: 'running',
      progress: 50,
      pollAfterMs: 250,
    });
    expect(state({ status: 'unknown', progress: 0 })).toEqual({
      state: 'queued',
      progress: 0,
      pollAfterMs: 250,
    });
    expect([progressOf(140), progressOf(-3), progressOf('abc'), progressOf(' 7 % ')]).toEqual([
      100,
      0,
      null,
      7,
    ]);
  });

  it('makes a completed job one variant with content references of the handle, expiry in ms', () => {
    expect(
      state({ status: 'completed', completed_at: 1_700_000_100, expires_at: '1700086400', seconds: '8' }),
    ).toEqual({
      state: 'succeeded',
      outputs: [
        {
          index: 0,
          video: { kind: 'content', handle, index: 0, asset: 'video', expiresAt: 1_700_086_400_000 },
          thumbnail: { kind: 'content', handle, index: 0, asset: 'thumbnail', expiresAt: 1_700_086_400_000 },
          spritesheet: {
            kind: 'content',
            handle,
            index: 0,
            asset: 'spritesheet',
            expiresAt: 1_700_086_400_000,
          },
        },
      ],
      completedAt: 1_700_000_100_000,
      expiresAt: 1_700_086_400_000,
      seconds: 8,
    });
  });

  it('treats a completion that carries an error as a failure', () => {
    expect(state({ status: 'completed', error: { code: 'content_filter', message: 'filtered' } })).toEqual({
      state: 'failed',
      kind: 'safety',
      code: 'content_filter',
      message: 'filtered',
    });
  });

  it('classifies failures: moderation is safety, exhausted credit is quota, cancelled upstream, expired gone', () => {
    expect(state({ status: 'failed', error: { code: 'moderation_blocked', message: 'no' } })).toMatchObject({
      kind: 'safety',
    });
    expect(state({ status: 'FAILURE', error: { code: 'insufficient_quota', message: 'pay' } })).toMatchObject(
      {
        kind: 'quota',
      },
    );
    expect(state({ status: 'failed', error: 'upstream timed out' })).toEqual({
      state: 'failed',
      kind: 'upstream',
      code: 'failed',
      message: 'upstream timed out',
    });
    expect(state({ status: 'failed' })).toMatchObject({ kind: 'upstream', code: 'failed' });
    expect(state({ status: 'cancelled' })).toMatchObject({
      state: 'failed',
      kind: 'upstream',
      code: 'cancelled',
    });
    expect(state({ status: 'expired' })).toMatchObject({ state: 'failed', kind: 'gone', code: 'expired' });
  });

  it('reads a legacy answer the same way', () => {
    expect(readVideoAnswer({ status: 'SUCCESS', completed_at: null })).toEqual({
      phase: 'completed',
      completedAt: null,
      expiresAt: null,
      seconds: null,
    });
  });
});

describe('contentProbeFailure', () => {
  const error = (kind: ProviderError['kind'], status?: number) =>
    new ProviderError({ kind, message: 'No response data', delivered: 'yes', ...(status ? { status } : {}) });

  it('ends the job for an answer about the job: 404 gone, other 4xx/5xx safety', () => {
    expect(contentProbeFailure(error('not-found', 404))).toMatchObject({ state: 'failed', kind: 'gone' });
    for (const [kind, status] of [
      ['server', 500],
      ['invalid-request', 400],
    ] as const) {
      expect(contentProbeFailure(error(kind, status))).toEqual({
        state: 'failed',
        kind: 'safety',
        code: 'completed_without_video',
        message: `the gateway reported the job completed but served no video (HTTP ${status}: No response data); its upstream model usually filters such a video for safety`,
      });
    }
  });

  it('proves nothing without an answer, or with one about our credentials or rate', () => {
    for (const kind of ['connection', 'auth', 'rate-limited'] as const) {
      expect(contentProbeFailure(error(kind))).toBeUndefined();
    }
  });
});
