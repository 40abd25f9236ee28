import type { ShotId } from '../core/brand.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { ShotGraph } from './shot-graph.ts';

/** Why `--shot` could not be honoured. A usage error: exit code 2. */
export interface UnknownShotsFailure {
  readonly reason: 'unknown-shot';
  /** The requested ids that are not in the manifest, in the order given. */
  readonly unknown: readonly string[];
  /** One paragraph for the user: each unknown id with a "did you mean", then (some of) the valid ids. */
  readonly message: string;
}

/** How many valid ids a usage error lists before "and N more" (a 10k-shot campaign must not flood the terminal). */
const LISTED_IDS = 20;

/**
 * The shots to plan for `--shot ID...`: each requested shot and everything it needs (all its ancestors
 * through `remix_of` / `extend_of`). No ids means the whole manifest. Unknown ids are all reported at once,
 * with a "did you mean" and the valid ids.
 */
export function selectTargets(
  graph: ShotGraph,
  shotIds: readonly string[],
): Result<ReadonlySet<ShotId>, UnknownShotsFailure> {
  if (shotIds.length === 0) return ok(new Set(graph.ids));
  const unknown = shotIds.filter((id) => !graph.has(id as ShotId));
  if (unknown.length > 0) {
    const lines = [...new Set(unknown)].map((id) => {
      const close = closestMatch(id, graph.ids);
      return `unknown shot '${id}'${close === undefined ? '' : ` (did you mean '${close}'?)`}`;
    });
    const listed = graph.ids.slice(0, LISTED_IDS).join(', ');
    const more = graph.ids.length > LISTED_IDS ? `, and ${graph.ids.length - LISTED_IDS} more` : '';
    const valid = graph.ids.length === 0 ? 'the manifest has no shots' : `valid shots: ${listed}${more}`;
    return fail({ reason: 'unknown-shot', unknown, message: `${lines.join('\n')}\n${valid}` });
  }
  const selected = new Set<ShotId>();
  // Ids were just checked to exist, which is what makes them ShotIds.
  const work = [...shotIds] as ShotId[];
  while (work.length > 0) {
    const id = work.pop()!;
    if (selected.has(id)) continue;
    selected.add(id);
    for (const edge of graph.parents(id)) work.push(edge.parent);
  }
  return ok(selected);
}

/**
 * The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo
 * (at most a third of the word's length, and at least 1). Ties go to the first candidate (id order).
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const d = editDistance(word, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (with adjacent transpositions counted as one edit), giving up at `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  let prevPrev = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, prevPrev[j - 2]! + 1);
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin >= cap) return cap;
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length]!;
}
