// The JSON Schema for editors and the docs tables are generated from the zod schemas; these tests
// fail when the committed files drift from the source (fix: `npm run schema`), and check that the
// JSON Schema judges real formulas the way the validator does.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { formatDiagnostic, parseFormula } from '../../src/formula/index.js';
import { renderJsonSchema } from '../../src/formula/reference-docs.js';
import { docsFile, expectedDocs, schemaFile } from './generated.js';
import { withActions } from './invalid-cases.js';
import { corpusPath } from '../support/corpus.js';

describe('generated files are up to date (run `npm run schema` when this fails)', () => {
  it('schema/runtask.schema.json matches the zod schema', () => {
    assert.equal(readFileSync(schemaFile, 'utf8'), renderJsonSchema());
  });

  it('the generated tables in docs/task-formula.md match the schema', () => {
    assert.equal(readFileSync(docsFile, 'utf8'), expectedDocs());
  });
});

describe('the JSON Schema agrees with the validator', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  const corpus = corpusPath('tasks');

  for (const file of readdirSync(corpus).filter((f) => f.endsWith('.yml'))) {
    it(`accepts ${file}`, () => {
      assert.ok(validate(parse(readFileSync(join(corpus, file), 'utf8'))), JSON.stringify(validate.errors));
    });
  }

  const invalid: [string, string][] = [
    ['unknown directive', withActions('  - name: a', '    kojii: {action: download}')],
    ['two directives', withActions('  - name: a', '    shell: [ls]', '    dummy: {result: PASS}')],
    ['no directive', withActions('  - name: a', '    export: x')],
    ['koji action not in the enum', withActions('  - name: a', '    koji: {action: get, koji_build: x, arch: all}')],
    ['koji download without koji_build', withActions('  - name: a', '    koji: {action: download, arch: all}')],
    ['resultsdb with both results and file', withActions('  - name: a', '    resultsdb: {results: x, file: y}')],
    ['shell as a plain string', withActions('  - name: a', '    shell: echo hi')],
    ['a duration without unit', withActions('  - name: a', '    shell: [ls]', '    timeout: 90')],
    ['both actions and task', withActions('  - name: a', '    shell: [ls]') + 'task:\n  - name: b\n    shell: [ls]\n'],
    ['python kwarg that is not a name', withActions('  - name: a', '    python: {file: a.py, callable: run, dry-run: 1}')],
  ];
  for (const [name, yaml] of invalid) {
    it(`rejects: ${name}`, () => assert.equal(validate(parse(yaml)), false));
  }
});

describe('the examples in docs/task-formula.md', () => {
  const docs = readFileSync(docsFile, 'utf8');
  const formulas = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').filter((y) => /^name: /m.test(y));

  it('include a complete formula', () => assert.ok(formulas.length >= 1));

  for (const [i, yaml] of formulas.entries()) {
    it(`example ${i + 1} is a valid formula without warnings`, () => {
      const r = parseFormula(yaml, 'docs example');
      assert.deepEqual([...r.errors, ...r.warnings].map(formatDiagnostic), []);
    });
  }

  it('the shell snippet is a valid shell parameter', () => {
    const snippet = /```yaml\n(shell:\n[\s\S]*?)```/.exec(docs)?.[1] ?? '';
    const r = parseFormula(withActions('  - name: a', ...snippet.trimEnd().split('\n').map((l) => `    ${l}`)), 'docs');
    assert.deepEqual(r.errors.map(formatDiagnostic), []);
  });
});
