/**
 * Branded strings: things that are all `string` at run time but must never be mixed up in the code.
 * Create them only through the `as*` helpers after validation (or when reading our own files).
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A shot's id in the manifest, `^[a-z0-9][a-z0-9._-]*$`. */
export type ShotId = Brand<string, 'ShotId'>;
/** A remote video id as the provider gave it (`video_…`, `task_…`). */
export type VideoId = Brand<string, 'VideoId'>;
/** A lowercase hex sha256 of some bytes. */
export type Sha256 = Brand<string, 'Sha256'>;
/** A shot key: the lowercase hex sha256 of the canonical key data (src/plan/shot-key.ts). */
export type ShotKey = Brand<string, 'ShotKey'>;

export const asShotId = (s: string): ShotId => s as ShotId;
export const asVideoId = (s: string): VideoId => s as VideoId;
export const asSha256 = (s: string): Sha256 => s as Sha256;
export const asShotKey = (s: string): ShotKey => s as ShotKey;
