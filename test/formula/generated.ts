// Where the generated artifacts live, and how to regenerate them (`npm run schema`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillGeneratedRegions, referenceRegions, renderJsonSchema } from '../../src/formula/reference-docs.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const schemaFile = join(repoRoot, 'schema/runtask.schema.json');
export const docsFile = join(repoRoot, 'docs/task-formula.md');

export function expectedDocs(): string {
  return fillGeneratedRegions(readFileSync(docsFile, 'utf8'), referenceRegions());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(schemaFile, renderJsonSchema());
  writeFileSync(docsFile, expectedDocs());
  console.log(`wrote ${schemaFile} and the generated tables of ${docsFile}`);
}
