// Every real formula in ../shared/corpus/tasks is valid, and parses into the normalised model.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic, parseFormula } from '../../src/formula/index.js';
import { corpusPath } from '../support/corpus.js';

export const corpusTasks = corpusPath('tasks');
const read = (name: string) => parseFormula(readFileSync(join(corpusTasks, name), 'utf8'), name);

describe('the real formulas in the corpus', () => {
  const files = readdirSync(corpusTasks).filter((f) => f.endsWith('.yml'));

  it('are all there', () => {
    assert.deepEqual(files.sort(), [
      'checkmodulemd.yml',
      'csmock.2014-initial-old-task-key.yml',
      'csmock.yml',
      'python-versions.2016-initial.yml',
    ]);
  });

  for (const file of files) {
    it(`${file} validates without errors`, () => {
      const result = read(file);
      assert.deepEqual(result.errors.map(formatDiagnostic), []);
      assert.ok(result.formula);
      assert.deepEqual(JSON.parse(JSON.stringify(result.formula)), result.formula, 'the formula is plain JSON data');
    });
  }

  it('the 2014 formula with the old `task:` key validates, with a deprecation warning', () => {
    const result = read('csmock.2014-initial-old-task-key.yml');
    assert.deepEqual(result.warnings.map(formatDiagnostic), [
      "csmock.2014-initial-old-task-key.yml:13:1: warning: task: 'task' is the 2014 name of 'actions' and is deprecated: rename it to 'actions'",
      "csmock.2014-initial-old-task-key.yml:19:15: warning: task[0].export: export 'koji_build' replaces the input variable 'koji_build' for later actions",
    ]);
    assert.deepEqual(
      result.formula?.actions.map((a) => [a.name, a.directive, a.export]),
      [
        ['download srpm from koji', 'koji', 'koji_build'],
        ['run csmock on downloaded srpm', 'python', undefined],
      ],
    );
  });

  it('an export nobody reads is a warning, not an error (csmock.yml)', () => {
    assert.deepEqual(read('csmock.yml').warnings.map(formatDiagnostic), [
      "csmock.yml:32:15: warning: actions[1].export: export 'csmock_output' is never used by a later action",
    ]);
  });

  it('checkmodulemd.yml normalises into the model: directive moved out of the action, params as written', () => {
    const { formula, warnings } = read('checkmodulemd.yml');
    assert.deepEqual(warnings, []);
    assert.ok(formula);
    assert.deepEqual(
      { name: formula.name, namespace: formula.namespace, maintainer: formula.maintainer, input: formula.input },
      { name: 'checkmodulemd', namespace: 'dist', maintainer: 'merlinm', input: { args: ['dist_git_commit'] } },
    );
    assert.equal(formula.environment?.rpm?.length, 6);
    assert.deepEqual(
      formula.actions.map((a) => a.directive),
      ['shell', 'shell', 'python', 'distgit', 'shell', 'python', 'resultsdb'],
    );
    assert.deepEqual(formula.actions[4], {
      name: 'run avocado modulemd validity test',
      directive: 'shell',
      params: [
        {
          ignorereturn: [
            [
              'avocado',
              'run',
              'check_modulemd.py',
              '--job-results-dir',
              '${workdir}',
              '--mux-inject',
              'run:modulemd:${workdir}/download/${c.name}.yaml',
            ],
          ],
        },
      ],
    });
    assert.deepEqual(formula.actions[6], {
      name: 'report results to resultsdb',
      directive: 'resultsdb',
      params: { results: '${output}' },
    });
  });

  it('python-versions keeps YAML types: src: False is a boolean', () => {
    const koji = read('python-versions.2016-initial.yml').formula?.actions[0];
    assert.deepEqual(koji?.params, { action: 'download', koji_build: '${koji_build}', arch: ['all'], src: false });
  });
});
