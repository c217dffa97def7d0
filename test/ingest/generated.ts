// Where the trigger rules' generated JSON Schema lives, and how to regenerate it (`npm run schema`).
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rulesJsonSchema } from '../../src/ingest/rules-schema.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const rulesSchemaFile = join(repoRoot, 'schema/trigger-rules.schema.json');

export function renderRulesJsonSchema(): string {
  return `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(rulesSchemaFile, renderRulesJsonSchema());
  console.log(`wrote ${rulesSchemaFile}`);
}
