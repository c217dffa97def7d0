// `taskotron result`, as a task's shell script calls it: one result appended per call, with the
// original taskotron_result's options; a mistake is refused and leaves the file as it was.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { registerResult } from '../../src/cli/result.js';
import { parseResultYaml } from '../../src/results/resultyaml.js';
import { corpusPath } from '../support/corpus.js';

async function taskotronResult(...args: string[]): Promise<{ stderr: string; exitCode: number }> {
  let stderr = '';
  const program = new Command('taskotron').exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  registerResult(program);
  try {
    await program.parseAsync(['result', ...args], { from: 'user' });
    return { stderr, exitCode: 0 };
  } catch (error) {
    if (error instanceof CommanderError) return { stderr, exitCode: error.exitCode };
    throw error;
  }
}

const scratch = () => mkdtempSync(join(tmpdir(), 'taskotron-result-'));

describe('taskotron result', () => {
  test('creates the file, then appends; -k twice makes a list', async () => {
    const file = join(scratch(), 'results.yml');
    assert.deepEqual(await taskotronResult('-f', file, '-i', 'foo-1.0-1.fc40', '-t', 'koji_build', '-o', 'PASSED', '-c', 'python-versions.two_three'), { stderr: '', exitCode: 0 });
    assert.deepEqual(
      await taskotronResult('--file', file, '--item', 'foo-1.0-1.fc40', '--report_type', 'koji_build', '--outcome', 'FAILED', '--note', '2 ERRORS', '-k', 'arch=x86_64', '-k', 'arch=noarch', '-k', 'scenario=a=b', '-a', 'logs/x.log'),
      { stderr: '', exitCode: 0 },
    );
    assert.equal(
      readFileSync(file, 'utf8'),
      [
        'results:',
        '  - item: foo-1.0-1.fc40',
        '    type: koji_build',
        '    outcome: PASSED',
        '    checkname: python-versions.two_three',
        '  - item: foo-1.0-1.fc40',
        '    type: koji_build',
        '    outcome: FAILED',
        '    note: 2 ERRORS',
        '    artifact: logs/x.log',
        '    arch:',
        '      - x86_64',
        '      - noarch',
        '    scenario: a=b',
        '',
      ].join('\n'),
    );
    assert.deepEqual(parseResultYaml(readFileSync(file, 'utf8')).errors, []);
  });

  test("appends to the corpus file and keeps what's there; --type works as --report_type", async () => {
    const file = join(scratch(), 'results.yml');
    copyFileSync(corpusPath('resultyaml', 'checkb_test_import_full.yml'), file);
    const before = readFileSync(file, 'utf8');
    assert.equal((await taskotronResult('-f', file, '-i', 'x-1-1.fc40', '--type', 'koji_build', '-o', 'INFO')).exitCode, 0);
    const after = readFileSync(file, 'utf8');
    assert.ok(after.startsWith(before.trimEnd().split('\n').slice(0, 3).join('\n')));
    const parsed = parseResultYaml(after);
    assert.deepEqual(parsed.value?.results.map((r) => [r.item, r.outcome]), [['xchat-0.5-1.fc20', 'PASSED'], ['x-1-1.fc40', 'INFO']]);
    assert.deepEqual(parsed.value?.results[0]?.internal, { resultsdb_result_id: 1234 });
  });

  test('a reserved key in --keyval is ignored with a warning, as the original did', async () => {
    const file = join(scratch(), 'results.yml');
    const run = await taskotronResult('-f', file, '-i', 'a', '-t', 'koji_build', '-o', 'PASSED', '-k', 'outcome=FAILED');
    assert.deepEqual(run, { stderr: "warning: --keyval 'outcome' is a reserved key and is ignored (use --outcome)\n", exitCode: 0 });
    assert.equal(parseResultYaml(readFileSync(file, 'utf8')).value?.results[0]?.outcome, 'PASSED');
  });

  const refusals: [name: string, args: string[], stderr: string][] = [
    ['an outcome that is not one', ['-o', 'passed'], "error: --outcome: 'passed' is not an outcome: use one of PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED, CRASHED — did you mean 'PASSED'?\n"],
    ['a keyval without =', ['-o', 'PASSED', '-k', 'arch'], "error: --keyval 'arch': expected KEY=VALUE\n"],
    ['a keyval ResultsDB cannot store', ['-o', 'PASSED', '-k', 'a:b=1'], "error: --keyval a:b: keyval name 'a:b' must not contain ':' (ResultsDB keeps it for ':like' queries)\n"],
    ['a check name with a space', ['-o', 'PASSED', '-c', 'my check'], "error: --checkname: not a valid check name: 'my check' may only contain letters, digits, '_', '-' and '+', with '.' between parts\n"],
  ];
  for (const [name, extra, stderr] of refusals) {
    test(`refuses ${name} and writes nothing`, async () => {
      const file = join(scratch(), 'results.yml');
      assert.deepEqual(await taskotronResult('-f', file, '-i', 'foo-1.0-1.fc40', '-t', 'koji_build', ...extra), { stderr, exitCode: 1 });
      assert.equal(existsSync(file), false);
    });
  }

  test('refuses to append to a file that is not ResultYAML, leaving it untouched', async () => {
    const file = join(scratch(), 'results.yml');
    writeFileSync(file, 'results:\n  - item: a\n');
    const run = await taskotronResult('-f', file, '-i', 'b', '-t', 'koji_build', '-o', 'PASSED');
    assert.equal(run.exitCode, 1);
    assert.equal(
      run.stderr,
      `error: ${file} is not valid ResultYAML, so nothing was appended:\n${file}:2:5: error: results[0].type: missing 'type': the item's type, e.g. koji_build or bodhi_update\n${file}:2:5: error: results[0].outcome: missing 'outcome': one of PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED, CRASHED\n`,
    );
    assert.equal(readFileSync(file, 'utf8'), 'results:\n  - item: a\n');
  });

  test('the artifact must be inside TASKOTRON_ARTIFACTSDIR when the runner sets it', async () => {
    const file = join(scratch(), 'results.yml');
    process.env.TASKOTRON_ARTIFACTSDIR = '/var/lib/taskotron/artifacts/u1';
    try {
      const run = await taskotronResult('-f', file, '-i', 'a', '-t', 'koji_build', '-o', 'PASSED', '-a', '../u2/log');
      assert.deepEqual(run, { stderr: "error: --artifact: '../u2/log' is outside the artifacts directory /var/lib/taskotron/artifacts/u1: only files in it are published\n", exitCode: 1 });
    } finally {
      delete process.env.TASKOTRON_ARTIFACTSDIR;
    }
  });

  test('requires file, item, type and outcome', async () => {
    assert.deepEqual(await taskotronResult('-f', 'x.yml', '-i', 'a', '-o', 'PASSED'), { stderr: "error: required option '-t, --report_type <type>' not specified\n", exitCode: 1 });
    assert.equal((await taskotronResult('-f', 'x.yml', '-t', 'koji_build', '-o', 'PASSED')).exitCode, 1);
  });
});
