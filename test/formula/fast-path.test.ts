// Valid formulas are read by js-yaml without positions (src/formula/fast-yaml.ts); everything else
// by `yaml` with positions. These tests prove the two paths agree: on every real formula, on the
// project's own tasks, and on the YAML 1.1 / 1.2 edge cases where parsers are known to differ. Where
// the fast reader could disagree it must step aside, and the slow path decides.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { projectRoot } from '../../src/devserver/project.js';
import { fastLoad } from '../../src/formula/fast-yaml.js';
import { parseFormula, parseFormulaFast, parseFormulaWithPositions } from '../../src/formula/parse.js';
import { corpusPath } from '../support/corpus.js';
import { withActions } from './invalid-cases.js';

function formulaFiles(): Array<[string, string]> {
  const files: Array<[string, string]> = [];
  const corpus = corpusPath('tasks');
  for (const name of readdirSync(corpus).filter((f) => f.endsWith('.yml'))) files.push([`corpus/${name}`, join(corpus, name)]);
  for (const dir of ['examples/tasks', 'test/fixtures/tasks']) {
    for (const task of readdirSync(join(projectRoot(), dir))) {
      const file = join(projectRoot(), dir, task, 'runtask.yml');
      if (existsSync(file)) files.push([`${dir}/${task}`, file]);
    }
  }
  return files;
}

/** What `yaml` (the slow path's parser) reads, or undefined when it reports an error or a warning. */
function slowData(text: string): { data: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true, logLevel: 'silent' });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  return { data: doc.toJS({ maxAliasCount: 100 }) };
}

/** The whole contract: the result is exactly the slow path's, and any data the fast reader returns is `yaml`'s. */
function assertAgree(text: string, label: string): void {
  assert.deepEqual(parseFormula(text, 'runtask.yml'), parseFormulaWithPositions(text, 'runtask.yml'), `${label}: parseFormula differs from the slow path`);
  const fast = fastLoad(text);
  if (fast) {
    const slow = slowData(text);
    assert.ok(slow, `${label}: the fast reader accepted text that yaml reports an error or warning for`);
    assert.deepStrictEqual(fast.data, slow.data, `${label}: the two parsers read different data`);
  }
}

describe('formula fast path', () => {
  const files = formulaFiles();

  it('covers the corpus and the project tasks', () => assert.ok(files.length >= 10, String(files.length)));

  for (const [label, file] of files) {
    it(`${label}: both paths give the same result`, () => assertAgree(readFileSync(file, 'utf8'), label));
  }

  it('valid formulas without warnings do take the fast path', () => {
    const fast = files.filter(([, file]) => parseFormulaFast(readFileSync(file, 'utf8'), 'runtask.yml'));
    assert.ok(fast.length >= files.length / 2, `only ${fast.map(([l]) => l).join(', ')} took the fast path`);
  });

  it('a formula with a warning goes the slow path, keeping the warning and its position', () => {
    const text = readFileSync(corpusPath('tasks', 'csmock.2014-initial-old-task-key.yml'), 'utf8');
    assert.equal(parseFormulaFast(text, 'x.yml'), undefined);
    assert.ok(parseFormula(text, 'x.yml').warnings.length > 0);
  });

  // Scalars in a place where any value is valid (a dummy action's msg), so the formula stays valid
  // and the test sees exactly how each parser resolved the scalar.
  const scalars = [
    'yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'NO', 'true', 'True', 'TRUE', 'tRue', 'false',
    '0755', '0o755', '0o8', '0x1F', '0X1F', '+0x1F', '0b101', '1_000', '1__0', '+1', '-0', '00', '012345678901234567890',
    '1e3', '1E3', '1.5e-3', '.5', '+.5', '5.', '0.', '1e', '.e1', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN',
    'null', 'Null', 'NULL', 'nUll', '~', '', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '12:30:45', '1:20', '60:00:00',
    '"quoted"', "'single ''quoted'''", '"\\x41\\u00e9"', '!!str 5', '!!int "7"', '!!binary aGVsbG8=', '!foo bar',
    '&anchor value', '*alias', '"a #not comment"', 'a # comment', '|\n        block\n        text', '>-\n        folded\n        text',
  ];
  for (const scalar of scalars) {
    it(`scalar ${JSON.stringify(scalar)}: both paths agree`, () => {
      assertAgree(withActions('  - name: one', '    dummy:', '      result: PASS', `      msg: ${scalar}`), scalar);
    });
  }

  const documents: Array<[string, string]> = [
    ['merge key <<', withActions('  - name: one', '    dummy:', '      result: PASS', '      <<: {msg: merged}')],
    ['merge key with an alias', withActions('  - name: one', '    dummy: &d', '      result: PASS', '  - name: two', '    dummy:', '      <<: *d')],
    ['alias of a whole action', withActions('  - &one', '    name: one', '    dummy: {result: PASS}', '  - *one')],
    ['duplicate key', withActions('  - name: one', '    dummy: {result: PASS}', '    dummy: {result: FAIL}')],
    ['duplicate top-level key', `name: a\n${withActions('  - name: one', '    dummy: {result: PASS}')}`],
    ['%YAML 1.1 directive', `%YAML 1.1\n---\n${withActions('  - name: one', '    dummy: {result: PASS, msg: yes}')}`],
    ['%TAG directive', `%TAG !e! tag:example.com,2000:\n---\n${withActions('  - name: one', '    dummy: {result: PASS}')}`],
    ['explicit document markers', `---\n${withActions('  - name: one', '    dummy: {result: PASS}')}...\n`],
    ['two documents', `${withActions('  - name: one', '    dummy: {result: PASS}')}---\nname: b\n`],
    ['multi-line flow sequence', withActions('  - name: one', '    shell:', '      - [true,', '        false]')],
    ['flow end at the parent indent', withActions('  - name: one', '    shell: [', '    "true"', '    ]')],
    ['flow on one line with a comment', withActions('  - name: one', '    shell: [[true]] # fine')],
    ['quoted brackets in flow', withActions('  - name: one', `    shell: ["echo ']['", 'it''s [', "x # y"]`)],
    ['complex key', withActions('  - name: one', '    dummy: {result: PASS}', '    ? [a, b]', '    : c')],
    ['null key', withActions('  - name: one', '    dummy: {result: PASS, ~: x}')],
    ['numeric key', withActions('  - name: one', '    dummy: {result: PASS, 1: x}')],
    ['__proto__ key', withActions('  - name: one', '    dummy: {result: PASS}', '    __proto__: {name: injected}')],
    ['__proto__ at the top', `__proto__: {x: 1}\n${withActions('  - name: one', '    dummy: {result: PASS}')}`],
    ['tab indentation', withActions('  - name: one', '\tdummy: {result: PASS}')],
    ['tab after a value', withActions('  - name: one', '    dummy: {result: PASS}\t')],
    ['CRLF line ends', withActions('  - name: one', '    dummy: {result: PASS}').replace(/\n/g, '\r\n')],
    ['byte order mark', `\uFEFF${withActions('  - name: one', '    dummy: {result: PASS}')}`],
    ['empty file', ''],
    ['only a comment', '# nothing\n'],
    ['a list at the top', '- a\n- b\n'],
    ['a scalar at the top', 'hello\n'],
    ['unterminated quote', withActions('  - name: "one', '    dummy: {result: PASS}')],
    ['bad indentation', withActions('  - name: one', '   dummy: {result: PASS}')],
    ['ignorereturn inline list (warning needs the node)', withActions('  - name: one', '    shell:', "      - ignorereturn: [a, b]")],
  ];
  for (const [label, text] of documents) {
    it(`${label}: both paths agree`, () => assertAgree(text, label));
  }
});
