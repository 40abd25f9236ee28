/**
 * Writes `schemas/manifest.schema.json` and `schemas/config.schema.json` from the code's own schemas
 * (src/manifest/manifest-schema.ts, src/config/config-schema.ts), and the README's capability table from
 * src/config/capabilities.ts. Run after changing a field or a model's entry:
 *
 *     npx node src/manifest/write-schemas.ts
 *
 * A test fails when the committed files differ from what this would write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withCapabilityTable } from '../config/capability-table.ts';
import { configJsonSchema } from '../config/config-schema.ts';
import { manifestJsonSchema } from './manifest-schema.ts';

/** The files and their content (compared as JSON by the test; formatted by prettier when written). */
export function schemaFiles(): Record<string, unknown> {
  return {
    'schemas/manifest.schema.json': manifestJsonSchema(),
    'schemas/config.schema.json': configJsonSchema(),
  };
}

export async function writeSchemas(repoRoot: string): Promise<void> {
  // prettier is a devDependency: only this maintainer script loads it.
  const prettier = await import('prettier');
  for (const [file, schema] of Object.entries(schemaFiles())) {
    const text = await prettier.format(JSON.stringify(schema), { parser: 'json', printWidth: 110 });
    await writeFile(`${repoRoot}/${file}`, text);
  }
  // The README's table of which model takes what, from the same capability tables the analyzer checks.
  const readme = `${repoRoot}/README.md`;
  await writeFile(readme, withCapabilityTable(await readFile(readme, 'utf8')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeSchemas(fileURLToPath(new URL('../..', import.meta.url)));
}
