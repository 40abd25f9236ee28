/**
 * Checking a persisted `JobHandle`: handles are written to the journal, the action cache and (when needed)
 * the lockfile, and read back by any later process, so each copy is rebuilt from its known fields.
 */
import type { JobHandle, JsonValue } from './job-api.ts';

/**
 * Rebuilds a handle from its known fields (the adapter's `extra` must be plain JSON); throws a TypeError for
 * anything that is not one. The journal, the action cache and the lockfile
 * store handles, and each rebuilds one this way before writing or after reading it.
 */
export function cleanHandle(value: JobHandle): JobHandle {
  const h = value as Partial<Record<keyof JobHandle, unknown>> | null;
  const problems: string[] = [];
  if (typeof h !== 'object' || h === null) throw new TypeError('Expected a job handle object');
  if (typeof h.type !== 'string' || h.type === '') problems.push('`type` to be a provider type');
  if (typeof h.provider !== 'string' || h.provider === '') problems.push('`provider` to be a name');
  if (typeof h.id !== 'string' || h.id === '') problems.push('`id` to be a non-empty string');
  if (typeof h.model !== 'string') problems.push('`model` to be a string');
  if (typeof h.createdAt !== 'number' || !Number.isFinite(h.createdAt))
    problems.push('`createdAt` to be a time');
  if (h.extra !== undefined && (typeof h.extra !== 'object' || h.extra === null || Array.isArray(h.extra)))
    problems.push('`extra` to be an object');
  if (problems.length > 0) throw new TypeError(`Expected ${problems.join(', ')} in the job handle`);
  return {
    type: h.type as JobHandle['type'],
    provider: h.provider as string,
    id: h.id as string,
    model: h.model as string,
    createdAt: h.createdAt as number,
    // A JSON round trip: plain data only (no functions, no class instances, no cycles).
    ...(h.extra === undefined
      ? {}
      : { extra: JSON.parse(JSON.stringify(h.extra)) as { readonly [key: string]: JsonValue } }),
  };
}

/**
 * Provider types whose jobs any process finds again from the remote id alone, with every output at the job's
 * content endpoint (the OpenAI Videos API, its emulator, Azure Sora 1): their handles need not be kept beside
 * a lockfile's `video_id`, and their outputs need no poll to be fetched again.
 */
const ID_ONLY: ReadonlySet<string> = new Set(['openai', 'emulator', 'azure-sora1']);

/** Whether the remote id (with the provider's config) rebuilds this handle, and its outputs need no poll. */
export function idAloneFindsJob(handle: Pick<JobHandle, 'type' | 'extra'>): boolean {
  return ID_ONLY.has(handle.type) && handle.extra === undefined;
}
