/** Small text helpers shared by the reporters, so every format spells numbers, paths and times alike. */
import path from 'node:path';

/** `abs` relative to `cwd` with `/` separators when it lies inside `cwd`; otherwise `abs` unchanged. */
export function displayPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return abs;
  return rel.split(path.sep).join('/');
}

/** A delay or estimate: `0.4s`, `1.5s`, `12s`, `3m 05s`, `1h 02m` (tenths only under 10 s). */
export function formatDuration(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 10_000) {
    const tenths = Math.round(clamped / 100) / 10;
    if (tenths < 10) return `${tenths}s`;
  }
  return formatElapsed(Math.round(clamped / 1000) * 1000);
}

/** A running counter in whole seconds, never jittering between redraws: `0s`, `42s`, `3m 05s`, `1h 02m`. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** US dollars with cents; an unknown price stays unknown, never $0. */
export function formatCost(usd: number | null): string {
  if (usd === null) return 'cost unknown';
  // Sums of per-second prices carry float noise (1.805 is 1.80499…); round the cents as written.
  const cents = Math.round(Number((usd * 100).toPrecision(12)));
  return `$${(cents / 100).toFixed(2)}`;
}

/** Decimal units, as file managers show video sizes: `512 B`, `12.3 kB`, `1.2 MB`, `2.0 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'] as const;
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `1 shot`, `2 shots`. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}

export interface Summary {
  readonly built: number;
  readonly fresh: number;
  readonly cached: number;
  readonly failed: number;
  readonly blocked: number;
  /** `null`: some price was unknown. */
  readonly costUsd: number | null;
}

/**
 * The one-line result every reporter ends with: `built 3 · fresh 1 · cached 0 · failed 0 · blocked 0 · $2.40`.
 * The words are the plan's: `fresh` pinned and present, `cached` re-pinned from the action cache.
 */
export function summaryLine(s: Summary): string {
  return `built ${s.built} · fresh ${s.fresh} · cached ${s.cached} · failed ${s.failed} · blocked ${s.blocked} · ${formatCost(s.costUsd)}`;
}
