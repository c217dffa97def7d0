// The configuration's JSON Schema and the settings table in docs/operations.md are generated from the
// zod schema; these fail when the committed files drift (fix: `npm run schema`), and check that the
// JSON Schema judges the example configurations the way the loader does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { renderConfigJsonSchema } from '../../src/config/reference.js';
import { configSchemaFile, expectedOperationsDoc, operationsDoc, repoRoot } from './generated.js';

test('schema/taskotron-config.schema.json matches the zod schema', () => {
  assert.equal(readFileSync(configSchemaFile, 'utf8'), renderConfigJsonSchema());
});

test('the settings table in docs/operations.md matches the schema', () => {
  assert.equal(readFileSync(operationsDoc, 'utf8'), expectedOperationsDoc());
});

test('the JSON Schema accepts the example and compose configurations and refuses an unknown key', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(configSchemaFile, 'utf8')) as object);
  for (const file of ['examples/config/taskotron.local.yaml', 'examples/config/taskotron.production.yaml', 'deploy/compose/taskotron.yaml']) {
    assert.ok(validate(parse(readFileSync(join(repoRoot, file), 'utf8'))), `${file}: ${JSON.stringify(validate.errors)}`);
  }
  assert.ok(!validate({ runner: { concurency: 2 } }));
  assert.ok(!validate({ metrics: { ingest_listen: 9464 } }));
});
