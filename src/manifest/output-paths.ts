/**
 * Output paths stay inside `out_dir`: relative, no `..` escape, ending in `.mp4`, and no two shots writing
 * one file (compared case-insensitively: on macOS and Windows `A.mp4` and `a.mp4` are the same file).
 */
import path from 'node:path';
import type { Diagnostic, Location } from '../core/diagnostic.ts';
import { VARIANT_PLACEHOLDER } from './manifest-schema.ts';

export type OutputCheck =
  { readonly ok: true; readonly output: string } | { readonly ok: false; readonly message: string };

/** Normalises one output path (POSIX separators) or says what is wrong with it. */
export function checkOutputPath(written: string): OutputCheck {
  const shown = JSON.stringify(written);
  // A NUL ends the name for the kernel (Node refuses it), other control characters make names nobody can type.
  if (/[\u0000-\u001f\u007f]/.test(written)) {
    return {
      ok: false,
      message: `Expected \`output\` to be a file name without control characters, but found ${shown}`,
    };
  }
  if (path.posix.isAbsolute(written) || /^[A-Za-z]:/.test(written) || written.startsWith('\\')) {
    return {
      ok: false,
      message: `Expected \`output\` to be a path relative to out_dir, but found the absolute path ${shown}`,
    };
  }
  if (written.includes('\\')) {
    return { ok: false, message: `Expected \`output\` to use \`/\` between folders, but found ${shown}` };
  }
  const normal = path.posix.normalize(written);
  if (normal === '..' || normal.startsWith('../')) {
    return { ok: false, message: `Expected \`output\` to stay inside out_dir, but ${shown} leads out of it` };
  }
  if (normal === '.' || normal.endsWith('/')) {
    return { ok: false, message: `Expected \`output\` to name a file, but ${shown} is a folder` };
  }
  if (!normal.toLowerCase().endsWith('.mp4') || path.posix.basename(normal).length <= 4) {
    return { ok: false, message: `Expected \`output\` to be an .mp4 file name, but found ${shown}` };
  }
  return { ok: true, output: normal };
}

/**
 * The output of every variant (1…N): the written `output` (a pattern where `{n}` is the variant number), else
 * `<id>.mp4` for one variant and `<id>/1.mp4 … <id>/N.mp4` for several. A pattern without `{n}` names one
 * file, so it takes one variant only.
 */
export function variantOutputs(
  written: string | undefined,
  id: string,
  variants: number,
): { readonly ok: true; readonly outputs: string[] } | { readonly ok: false; readonly message: string } {
  const numbers = Array.from({ length: variants }, (_, i) => i + 1);
  if (written === undefined) {
    return { ok: true, outputs: variants === 1 ? [`${id}.mp4`] : numbers.map((n) => `${id}/${n}.mp4`) };
  }
  if (variants > 1 && !written.includes(VARIANT_PLACEHOLDER)) {
    return {
      ok: false,
      message: `Expected \`output\` to hold ${VARIANT_PLACEHOLDER} (the variant number) for a shot with ${variants} variants, but found ${JSON.stringify(written)}; e.g. ${JSON.stringify(suggestPattern(written))}`,
    };
  }
  const outputs: string[] = [];
  for (const n of numbers) {
    const checked = checkOutputPath(written.replaceAll(VARIANT_PLACEHOLDER, String(n)));
    if (!checked.ok) return checked;
    outputs.push(checked.output);
  }
  return { ok: true, outputs };
}

function suggestPattern(written: string): string {
  return written.toLowerCase().endsWith('.mp4')
    ? `${written.slice(0, -4)}-${VARIANT_PLACEHOLDER}.mp4`
    : `${written}-${VARIANT_PLACEHOLDER}.mp4`;
}

export interface OutputClaim {
  readonly shot: string;
  readonly output: string;
  /** The `output:` value, or the shot's key when the output is the default `<id>.mp4`. */
  readonly location: Location;
  readonly explicit: boolean;
}

/**
 * One error per output written by more than one shot, at every claim after the first (in file order),
 * naming the first. Linear: one map lookup per claim.
 */
export function outputCollisions(claims: readonly OutputClaim[]): Diagnostic[] {
  const first = new Map<string, OutputClaim>();
  const diagnostics: Diagnostic[] = [];
  for (const claim of claims) {
    const key = claim.output.toLowerCase();
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, claim);
      continue;
    }
    const same = earlier.output === claim.output;
    const how = (c: OutputClaim): string => (c.explicit ? '' : ' (its default output)');
    diagnostics.push({
      severity: 'error',
      message: same
        ? `Expected each shot to write its own file, but \`${claim.shot}\`${how(claim)} and \`${earlier.shot}\`${how(earlier)} both write ${claim.output}`
        : `Expected each shot to write its own file, but \`${claim.shot}\` writes ${claim.output} and \`${earlier.shot}\` writes ${earlier.output}, the same file on a case-insensitive disk`,
      location: claim.location,
      supplementalLocations: [
        { message: `\`${earlier.shot}\` writes ${earlier.output} here`, location: earlier.location },
      ],
    });
  }
  return diagnostics;
}
