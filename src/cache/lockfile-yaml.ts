/**
 * The full lockfile reader: any YAML, with a positioned diagnostic for every problem (merge conflict markers,
 * bad YAML, unknown or wrong fields). `readLockfile` (lockfile.ts) loads it only when the fast line reader
 * does not recognise the file, so the everyday build never loads the YAML parser.
 */
import { isMap, isNode, isScalar, parseDocument } from 'yaml';
import type { Node, YAMLMap } from 'yaml';
import type { ShotId } from '../core/brand.ts';
import { asShotId } from '../core/brand.ts';
import type { Diagnostic, Location, SourceFile } from '../core/diagnostic.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import { checkEntry, KNOWN_FIELDS, parseCanonical } from './lockfile.ts';
import type { FieldValues } from './lockfile.ts';
import type { LockEntry, Lockfile } from './types.ts';

/** Parses lockfile text (see `readLockfile`). */
export function parseLockfile(file: SourceFile): Result<Lockfile, Diagnostic[]> {
  const canonical = parseCanonical(file.contents);
  if (canonical !== undefined) return ok(canonical);
  const problems: Diagnostic[] = [];
  const at = (node: Node | null | undefined): Location => {
    const r = node?.range;
    return { file, range: r ? { offset: r[0], length: Math.max(0, r[1] - r[0]) } : { offset: 0, length: 0 } };
  };
  const error = (message: string, location: Location): void => {
    problems.push({ severity: 'error', message, location });
  };

  const conflict = /^(<{7}|={7}|>{7})(?: |$)/m.exec(file.contents);
  if (conflict !== null) {
    error(
      'The lockfile has unresolved merge conflict markers. For each conflicting shot keep one side ' +
        "(or delete the shot's entry and run `sora-build build` to pin it again).",
      { file, range: { offset: conflict.index, length: 7 } },
    );
    return fail(problems);
  }

  const doc = parseDocument(file.contents, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      error(`Invalid lockfile YAML: ${e.message}`, {
        file,
        range: { offset: e.pos[0], length: e.pos[1] - e.pos[0] },
      });
    }
    return fail(problems);
  }
  const root = doc.contents;
  if (!isMap(root)) {
    error('Expected the lockfile to be a mapping with `version: 1` and `shots:`.', at(root));
    return fail(problems);
  }
  const version = root.get('version', true) as Node | undefined;
  const versionValue: unknown = isScalar(version) ? version.value : version?.toJSON();
  if (versionValue !== 1) {
    error(
      `Expected \`version: 1\`, but found ${version === undefined ? 'none' : JSON.stringify(versionValue)}: ` +
        'this lockfile was written by another version of sora-build.',
      at(version ?? root),
    );
  }
  for (const pair of root.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    if (name !== 'version' && name !== 'shots') error(`Unknown lockfile field \`${name}\`.`, at(pair.key));
  }
  const shots = new Map<ShotId, LockEntry>();
  const shotsNode = root.get('shots', true) as Node | undefined;
  if (!isMap(shotsNode)) {
    error('Expected `shots:` to be a mapping from shot id to entry.', at(shotsNode ?? root));
  } else {
    for (const pair of shotsNode.items) {
      const id = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(id)) {
        error(`Expected a shot id, but found ${JSON.stringify(id ?? null)}.`, at(pair.key as Node));
        continue;
      }
      if (!isMap(pair.value)) {
        error(
          `Expected the entry of shot \`${id}\` to be a mapping.`,
          at((pair.value as Node | null) ?? (pair.key as Node)),
        );
        continue;
      }
      const report = (m: string, node: Node | undefined): void => error(m, at(node ?? (pair.value as Node)));
      const entry = checkEntry(
        asShotId(id),
        collectFields(asShotId(id), pair.value, report),
        pair.value,
        report,
      );
      if (entry !== undefined) shots.set(asShotId(id), entry);
    }
  }
  return problems.length > 0 ? fail(problems) : ok({ version: 1, shots });
}

function collectFields(id: ShotId, map: YAMLMap, error: (message: string, node: Node) => void): FieldValues {
  const values: FieldValues = new Map();
  for (const pair of map.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!KNOWN_FIELDS.has(name)) {
      error(`Unknown field \`${name}\` in the entry of shot \`${id}\`.`, pair.key as Node);
      continue;
    }
    const node = (pair.value as Node | null) ?? (pair.key as Node);
    // The issue-13 fields are a list and a map: compared as plain data.
    const structured = (name === 'variants' || name === 'handle') && isNode(pair.value);
    values.set(name, {
      value: isScalar(pair.value)
        ? pair.value.value
        : structured
          ? (pair.value as Node).toJSON()
          : pair.value,
      node,
    });
  }
  return values;
}
