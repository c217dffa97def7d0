// `taskotron validate` as a user runs it: a real process, its output and its exit code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runValidate } from '../../src/cli/validate.js';
import { repoRoot } from './generated.js';
import { withActions } from './invalid-cases.js';
import { corpusPath } from '../support/corpus.js';
import { cliArgs } from '../support/cli.js';

const corpus = corpusPath('tasks');
const dir = mkdtempSync(join(tmpdir(), 'taskotron-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bad = join(dir, 'runtask.yml');
writeFileSync(bad, withActions('  - name: download', '    kojii:', '      action: download', '  - name: check', '    shell: ["rpmlint ${wrkdir}"]'));

function taskotron(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('taskotron validate (a real process)', () => {
  it('exits 0 for valid formulas and prints their warnings', () => {
    const r = taskotron('validate', join(corpus, 'csmock.yml'), join(corpus, 'checkmodulemd.yml'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        `${corpus}/csmock.yml:32:15: warning: actions[1].export: export 'csmock_output' is never used by a later action`,
        `${corpus}/csmock.yml: valid formula (1 warning)`,
        `${corpus}/checkmodulemd.yml: valid formula`,
        '2 files: 2 valid, 0 invalid',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 and prints file:line:col: error: path: message for each problem', () => {
    const r = taskotron('validate', bad, join(corpus, 'csmock.yml'));
    assert.equal(r.status, 1, r.stderr);
    assert.equal(
      r.stdout,
      [
        `${bad}:8:5: error: actions[0].kojii: unknown directive 'kojii' — did you mean 'koji'?`,
        `${bad}:11:13: error: actions[1].shell[0]: undefined variable 'wrkdir' — did you mean 'workdir'?`,
        `${corpus}/csmock.yml:32:15: warning: actions[1].export: export 'csmock_output' is never used by a later action`,
        `${corpus}/csmock.yml: valid formula (1 warning)`,
        '2 files: 1 valid, 1 invalid',
        '',
      ].join('\n'),
    );
  });

  it('--json prints one machine-readable entry per file', () => {
    const r = taskotron('validate', '--json', bad, join(dir, 'missing.yml'));
    assert.equal(r.status, 1, r.stderr);
    const reports = JSON.parse(r.stdout) as { file: string; kind: string; valid: boolean; errors: unknown[]; warnings: unknown[] }[];
    assert.equal(reports.length, 2);
    assert.deepEqual(reports[0]?.errors[0], {
      severity: 'error',
      file: bad,
      line: 8,
      column: 5,
      path: 'actions[0].kojii',
      message: "unknown directive 'kojii' — did you mean 'koji'?",
    });
    assert.deepEqual({ ...reports[0], errors: [] }, { file: bad, kind: 'formula', valid: false, errors: [], warnings: [] });
    assert.equal(reports[1]?.valid, false);
    assert.match(JSON.stringify(reports[1]?.errors), /cannot read the file: ENOENT/);
  });

  it('needs at least one file', () => {
    const r = taskotron('validate');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing required argument 'files'/);
  });
});

describe('runValidate (the command without a process)', () => {
  it('returns the exit code and prints through the given function', async () => {
    const lines: string[] = [];
    assert.equal(await runValidate([join(corpus, 'python-versions.2016-initial.yml')], {}, (l) => lines.push(l)), 0);
    assert.deepEqual(lines, [`${corpus}/python-versions.2016-initial.yml: valid formula`]);
  });
});
