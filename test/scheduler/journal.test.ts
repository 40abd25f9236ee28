import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asSha256, asShotId, asShotKey, asVideoId } from '../../src/core/brand.ts';
import { FakeClock } from '../../src/core/clock.ts';
import type { RemoteVideo } from '../../src/provider/types.ts';
import { Journal, promptSha256, reconcile } from '../../src/scheduler/journal.ts';
import type { Intent, IntentInput } from '../../src/scheduler/journal.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const KEY = asShotKey('a'.repeat(64));
const input = (shot: string, at: number, prompt = `prompt of ${shot}`): IntentInput => ({
  shot: asShotId(shot),
  key: KEY,
  provider: 'azure',
  at,
  request: {
    operation: 'create',
    model: 'sora-2',
    size: '1280x720',
    seconds: 8,
    promptSha256: promptSha256(prompt),
    parentVideoId: null,
  },
});

describe('Journal', () => {
  it('lists unfinished intents with and without remote ids, and removes itself when all are finished', async () => {
    const journal = Journal.open({ cacheDir: dir, clock: new FakeClock() });
    const harbor = await journal.recordIntent(input('harbor', 1000));
    const mug = await journal.recordIntent(input('mug', 2000));
    await journal.recordSubmitted(harbor.id, asVideoId('video_1'), 1500);
    expect(await journal.pending()).toEqual([
      { intent: harbor, videoId: 'video_1', createdAt: 1500 },
      { intent: mug, videoId: null, createdAt: null },
    ]);
    await journal.recordCompleted(harbor.id, 9000, asSha256('b'.repeat(64)));
    expect((await journal.pending()).map((p) => p.intent.shot)).toEqual(['mug']);
    expect((await readFile(journal.path, 'utf8')).trim().split('\n')).toHaveLength(4);
    await journal.recordFailed(mug.id, 9500, 'moderation_blocked');
    expect(await journal.pending()).toEqual([]);
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
  });

  it('survives a new instance (a rerun) and compacts to the unfinished intents', async () => {
    const first = Journal.open({ cacheDir: dir, clock: new FakeClock() });
    const a = await first.recordIntent(input('a', 1));
    const b = await first.recordIntent(input('b', 2));
    await first.recordSubmitted(b.id, asVideoId('video_b'), 3);
    await first.recordAbandoned(a.id, 4, 'expired');
    const rerun = Journal.open({ cacheDir: dir, clock: new FakeClock() });
    expect(await rerun.pending()).toEqual([{ intent: b, videoId: 'video_b', createdAt: 3 }]);
    await rerun.compact();
    const lines = (await readFile(rerun.path, 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['intent', 'submitted']);
    expect(await rerun.pending()).toEqual([{ intent: b, videoId: 'video_b', createdAt: 3 }]);
  });

  it('ignores a torn last line and keeps the next record on its own line', async () => {
    const journal = Journal.open({ cacheDir: dir, clock: new FakeClock() });
    const a = await journal.recordIntent(input('a', 1));
    await appendFile(journal.path, '{"type":"submitted","id":"' + a.id + '","vid');
    expect(await journal.pending()).toEqual([{ intent: a, videoId: null, createdAt: null }]);
    await journal.recordSubmitted(a.id, asVideoId('video_a'), 2);
    expect(await journal.pending()).toEqual([{ intent: a, videoId: 'video_a', createdAt: 2 }]);
  });

  it('keeps what was fsynced before a kill -9 of the writing process', async () => {
    const script = join(dir, 'writer.ts');
    await writeFile(
      script,
      `import { Journal, promptSha256 } from ${JSON.stringify(resolve('src/scheduler/journal.ts'))};
import { systemClock } from ${JSON.stringify(resolve('src/core/clock.ts'))};
const journal = Journal.open({ cacheDir: process.argv[2], clock: systemClock });
const intent = await journal.recordIntent({ shot: 'harbor', key: 'a'.repeat(64), provider: 'p', at: 1,
  request: { operation: 'create', model: 'sora-2', size: '1280x720', seconds: 8, promptSha256: promptSha256('x'), parentVideoId: null } });
await journal.recordSubmitted(intent.id, 'video_live', 2);
await journal.recordIntent({ ...intent, shot: 'mug', at: 3 });
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ready) => child.stdout.on('data', () => ready()));
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const pending = await Journal.open({ cacheDir: dir, clock: new FakeClock() }).pending();
    expect(pending.map((p) => [p.intent.shot, p.videoId])).toEqual([
      ['harbor', 'video_live'],
      ['mug', null],
    ]);
  });

  it('writes no secret and no prompt text: only the listed fields reach the file', async () => {
    const journal = Journal.open({ cacheDir: dir, clock: new FakeClock() });
    const leaky = {
      ...input('a', 1, 'A secret storyboard prompt'),
      apiKey: 'sk-test-SECRET',
      request: {
        ...input('a', 1).request,
        authorization: 'Bearer SECRET-TOKEN',
        prompt: 'A secret storyboard prompt',
      },
    } as unknown as IntentInput;
    const intent = await journal.recordIntent(leaky);
    await journal.recordSubmitted(intent.id, asVideoId('video_1'), 2);
    const text = await readFile(journal.path, 'utf8');
    expect(text).not.toMatch(/SECRET|sk-test|Bearer|storyboard prompt/);
    expect(Object.keys(JSON.parse(text.split('\n')[0]!) as object).sort()).toEqual(
      ['at', 'id', 'key', 'provider', 'request', 'shot', 'type'].sort(),
    );
  });

  it('rejects malformed intents with a TypeError listing every problem', async () => {
    const journal = Journal.open({ cacheDir: dir, clock: new FakeClock() });
    const bad = { ...input('a', 1), key: 'nope', request: { ...input('a', 1).request, size: 'big' } };
    await expect(journal.recordIntent(bad as IntentInput)).rejects.toThrow(
      'Expected `key` to be a shot key, `request.size` to look like 1280x720 in the journal intent',
    );
  });
});

describe('reconcile (pure)', () => {
  const intent: Intent = { ...input('harbor', 100_000, 'Misty harbor'), id: 'i1' };
  const video = (id: string, over: Partial<RemoteVideo> = {}): RemoteVideo => ({
    id: asVideoId(id),
    status: 'in_progress',
    progress: 10,
    createdAt: 101_000,
    completedAt: null,
    expiresAt: null,
    model: 'sora-2',
    size: '1280x720',
    seconds: 8,
    prompt: 'Misty harbor',
    remixedFrom: null,
    error: null,
    pollAfterMs: null,
    ...over,
  });

  it.each([
    ['a match', [video('v1')], 'v1'],
    ['other prompt', [video('v1', { prompt: 'Misty harbour' })], null],
    ['no prompt reported', [video('v1', { prompt: null })], null],
    ['other size', [video('v1', { size: '720x1280' })], null],
    ['other seconds', [video('v1', { seconds: 4 })], null],
    ['other model', [video('v1', { model: 'sora-2-pro' })], null],
    ['created well before the intent', [video('v1', { createdAt: 90_000 })], null],
    ['created slightly before (clock skew)', [video('v1', { createdAt: 97_000 })], 'v1'],
    ['a remix of something (the intent is a create)', [video('v1', { remixedFrom: asVideoId('v0') })], null],
    [
      'two matches: the earliest wins',
      [video('late', { createdAt: 120_000 }), video('early', { createdAt: 102_000 })],
      'early',
    ],
    ['two at once: the smaller id wins', [video('vb'), video('va')], 'va'],
  ] as const)('%s', (_name, videos, expected) => {
    const result = reconcile(intent, videos);
    expect(result.outcome === 'found' ? result.video.id : null).toBe(expected);
  });

  it('matches the deployment name on Azure and respects a remix parent', () => {
    const azure: Intent = { ...intent, request: { ...intent.request, remoteModel: 'contoso-sora-2' } };
    expect(reconcile(azure, [video('v1', { model: 'contoso-sora-2' })]).outcome).toBe('found');
    const remix: Intent = {
      ...intent,
      request: { ...intent.request, operation: 'remix', parentVideoId: asVideoId('parent') },
    };
    expect(reconcile(remix, [video('v1', { remixedFrom: asVideoId('other') })]).outcome).toBe('not-found');
    expect(reconcile(remix, [video('v1', { remixedFrom: asVideoId('parent') })]).outcome).toBe('found');
  });
});
