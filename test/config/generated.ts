// Where the configuration's generated artifacts live, and how to regenerate them (`npm run schema`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillGeneratedRegions } from '../../src/formula/reference-docs.js';
import { configSettingsTable, renderConfigJsonSchema } from '../../src/config/reference.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const configSchemaFile = join(repoRoot, 'schema/taskotron-config.schema.json');
export const operationsDoc = join(repoRoot, 'docs/operations.md');

export function expectedOperationsDoc(): string {
  return fillGeneratedRegions(readFileSync(operationsDoc, 'utf8'), { 'config-settings': configSettingsTable() });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(configSchemaFile, renderConfigJsonSchema());
  writeFileSync(operationsDoc, expectedOperationsDoc());
  console.log(`wrote ${configSchemaFile} and the settings table of ${operationsDoc}`);
}
