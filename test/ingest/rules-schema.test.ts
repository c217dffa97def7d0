// trigger_rules.yml is validated schema-first: the JSON Schema editors use is generated from the zod
// schema (fix drift with `npm run schema`), judges real rules files as the validator does, and the
// validator reports every problem of a file at once, in the file's order, each with its own message.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { loadRules } from '../../src/ingest/rules.js';
import { renderedCorpusRules } from './corpus.js';
import { renderRulesJsonSchema, repoRoot, rulesSchemaFile } from './generated.js';

describe('the trigger rules JSON Schema', () => {
  it('schema/trigger-rules.schema.json matches the zod schema (run `npm run schema` when this fails)', () => {
    assert.equal(readFileSync(rulesSchemaFile, 'utf8'), renderRulesJsonSchema());
  });

  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(rulesSchemaFile, 'utf8')) as object);
  const yaml11 = (text: string): unknown => parse(text, { version: '1.1' });

  const valid: Record<string, string> = {
    '2018 production rules': renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2'),
    '2017 rules': renderedCorpusRules('2017-08-21_legible.trigger_rules.yml.j2'),
    'examples/trigger_rules.yml': readFileSync(join(repoRoot, 'examples/trigger_rules.yml'), 'utf8'),
  };
  for (const [name, text] of Object.entries(valid)) {
    it(`accepts ${name}, as the validator does`, () => {
      assert.deepEqual(loadRules(text, name).errors.map(formatDiagnostic), []);
      assert.ok(validate(yaml11(text)), JSON.stringify(validate.errors));
    });
  }

  const invalid: Record<string, string> = {
    'an unknown rule key': '- when: {message_type: X}\n  do: [{tasks: [a]}]\n  then: 1\n',
    'a rule without do': '- when: {message_type: X}\n',
    'an unknown operator': "- when: {tag: {$regexp: '/x/'}}\n  do: [{tasks: [a]}]\n",
    'a list as a condition': '- when: {name: [a, b]}\n  do: [{tasks: [a]}]\n',
    'discover without repo': '- when: {name: x}\n  do:\n    - discover: {branch: b}\n',
    'arches as a string': '- when: {name: x}\n  do: [{tasks: [a], arches: x86_64}]\n',
    'a mapping at the top': 'when: {name: x}\n',
  };
  for (const [name, text] of Object.entries(invalid)) {
    it(`rejects ${name}, as the validator does`, () => {
      assert.notDeepEqual(loadRules(text, 'r.yml').errors, []);
      assert.equal(validate(yaml11(text)), false);
    });
  }
});

it('every problem of a rules file is reported at once, in the order of the file', () => {
  const text = '- when: {$where: x, a: {b: 1}}\n  do: [{arches: []}, 3, {tasks: ["", 2]}, {discover: {repo: "", x: 1}}]\n- 7\n';
  assert.deepEqual(loadRules(text, 'r.yml').errors.map(formatDiagnostic), [
    `r.yml:1:10: error: [0].when["$where"]: '$where' cannot stand at the top of 'when'; use $and, $or or $nor, or put it under a field`,
    "r.yml:1:25: error: [0].when.a.b: 'b' inside a condition: operators start with '$' ($in, $nin, $regex, $and, $or, $nor, $not, $eq, $ne, $exists, $all); to compare a field write it at the top of 'when'",
    "r.yml:2:8: error: [0].do[0]: an action needs 'tasks' or 'discover'",
    "r.yml:2:17: error: [0].do[0].arches: 'arches' needs a non-empty list of arch names, e.g. [x86_64, armhfp] or [noarch]",
    "r.yml:2:22: error: [0].do[1]: an action is a mapping with 'tasks' or 'discover'",
    'r.yml:2:34: error: [0].do[2].tasks[0]: a task name must be a non-empty string',
    'r.yml:2:38: error: [0].do[2].tasks[1]: a task name must be a non-empty string',
    "r.yml:2:61: error: [0].do[3].discover.repo: 'repo' needs a non-empty string",
    "r.yml:2:65: error: [0].do[3].discover.x: unknown key 'x'; discover has repo, branch, fallback_branch, recursive",
    "r.yml:3:3: error: [1]: a rule is a mapping with 'when' and 'do'",
  ]);
});

it('what only the hand-written checks can say: tasks or discover, and the warnings', () => {
  const result = loadRules('- when: {}\n  do:\n    - {tasks: [a], match_host_arch: true}\n    - {arches: [x86_64]}\n- when: {name: {}}\n  do: [{tasks: [a], discover: {repo: r}}]\n', 'r.yml');
  assert.deepEqual(result.errors.map(formatDiagnostic), [
    "r.yml:4:7: error: [0].do[1]: an action needs 'tasks' or 'discover'",
    'r.yml:5:16: error: [1].when.name: empty condition',
    "r.yml:6:21: error: [1].do[0].discover: an action has 'tasks' or 'discover', not both",
  ]);
  assert.deepEqual(result.warnings.map(formatDiagnostic), [
    "r.yml:1:9: warning: [0].when: empty 'when' matches every message",
    "r.yml:3:20: warning: [0].do[0].match_host_arch: match_host_arch only applies to 'discover'",
  ]);
});
