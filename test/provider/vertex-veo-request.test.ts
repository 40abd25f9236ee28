/** The pure half of the Veo adapter: operation -> JobState, request -> generateVideos parameters. */
import { GenerateVideosOperation } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { veoJobState, veoParameters } from '../../src/provider/vertex-veo-request.ts';

function op(fields: Partial<GenerateVideosOperation>): GenerateVideosOperation {
  return Object.assign(
    new GenerateVideosOperation(),
    { name: 'projects/p/locations/l/x/operations/1' },
    fields,
  );
}

describe('veoJobState', () => {
  it.each([
    ['not done', op({}), { state: 'running', progress: null, pollAfterMs: null }],
    [
      'an rpc error',
      op({ done: true, error: { code: 13, message: 'Internal error encountered.' } }),
      {
        state: 'failed',
        kind: 'upstream',
        code: 'INTERNAL',
        message: 'Veo failed it: Internal error encountered.',
      },
    ],
    [
      'an invalid argument found late',
      op({ done: true, error: { code: 3, message: 'Image too small.' } }),
      { state: 'failed', kind: 'invalid', code: 'INVALID_ARGUMENT' },
    ],
    [
      'an error in Responsible-AI words',
      op({ done: true, error: { code: 3, message: "violates Google's Responsible AI practices" } }),
      { state: 'failed', kind: 'safety', code: 'INVALID_ARGUMENT' },
    ],
    [
      'filtered without reasons',
      op({ done: true, response: { raiMediaFilteredCount: 1 } }),
      {
        state: 'failed',
        kind: 'safety',
        code: 'rai_media_filtered',
        message: 'Veo filtered 1 video (Responsible AI), without giving a reason',
      },
    ],
    [
      'done with nothing at all',
      op({ done: true, response: {} }),
      { state: 'failed', kind: 'safety', code: 'no_videos' },
    ],
  ])('%s', (_, operation, expected) => {
    expect(veoJobState(operation)).toMatchObject(expected);
  });

  it('keeps the videos that were not filtered, inline bytes and gs:// URIs, indexed in order', () => {
    const state = veoJobState(
      op({
        done: true,
        response: {
          generatedVideos: [
            { video: { videoBytes: Buffer.from('abc').toString('base64'), mimeType: 'video/mp4' } },
            { video: { uri: 'gs://b/o.mp4' } },
          ],
          raiMediaFilteredCount: 1,
          raiMediaFilteredReasons: ['one was filtered'],
        },
      }),
    );
    expect(state).toMatchObject({
      state: 'succeeded',
      outputs: [
        { index: 0, video: { kind: 'inline', mime: 'video/mp4', asset: 'video' } },
        { index: 1, video: { kind: 'gcs', uri: 'gs://b/o.mp4', asset: 'video' } },
      ],
    });
    const first = state.state === 'succeeded' ? state.outputs[0]!.video : undefined;
    expect(first?.kind === 'inline' && Buffer.from(first.bytes).toString()).toBe('abc');
  });
});

describe('veoParameters', () => {
  it('translates pixels, frames, variants and the optional fields; unsaid audio is on', () => {
    const png = {
      bytes: new Uint8Array([1, 2]),
      mime: 'image/png',
      filename: 'a.png',
      width: 1,
      height: 1,
    } as const;
    const result = veoParameters({
      model: 'veo-3.1-generate-001',
      prompt: 'p',
      size: '2160x3840',
      seconds: 8,
      variants: 3,
      frames: [{ image: png, at: 'first' }],
      referenceImages: [],
      seed: 0,
    });
    expect(result).toEqual({
      ok: true,
      value: {
        model: 'veo-3.1-generate-001',
        source: { prompt: 'p', image: { imageBytes: 'AQI=', mimeType: 'image/png' } },
        config: {
          numberOfVideos: 3,
          durationSeconds: 8,
          aspectRatio: '9:16',
          resolution: '4k',
          generateAudio: true,
          seed: 0,
        },
      },
    });
  });
});
