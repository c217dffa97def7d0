// The operator's commands for rules, run as a user runs them: `taskotron rules explain` (human and
// --json) and `taskotron validate` on a rules file, against the real production rules.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { projectRoot } from '../../src/devserver/project.js';
import { corpusDir, renderedCorpusRules } from './corpus.js';
import { cliArgs } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'taskotron-rules-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function taskotron(...args: string[]) {
  const run = spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: projectRoot(), encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const rules = join(dir, 'trigger_rules.yml');
writeFileSync(rules, renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2'));

test('rules explain --json prints the data dict, every rule with its reason, and the jobs', () => {
  const build = join(corpusDir, 'fedmsg', 'buildsys.build.state.change__TestKojiBuildStateChangeComplete.json');
  const { code, stdout } = taskotron('rules', 'explain', rules, build, '--arches', 'x86_64,armhfp', '--json');
  assert.equal(code, 0);
  const out = JSON.parse(stdout) as { data: Record<string, unknown>; rules: unknown[]; jobs: unknown[] };
  assert.deepEqual(Object.keys(out), ['data', 'rules', 'jobs']);
  assert.equal(out.data.item, 'ansible-1.8.3-1.el7');
  assert.deepEqual(out.rules, [
    { index: 0, matched: true, reason: "message_type: 'KojiBuildPackageCompleted' = 'KojiBuildPackageCompleted'" },
    { index: 1, matched: true, reason: "message_type: 'KojiBuildPackageCompleted' = 'KojiBuildPackageCompleted'; name: 'ansible' is not in ['firefox', 'thunderbird', 'kernel', 'kdelibs', 'kdepim', 'qt', … 3 more]" },
    { index: 2, matched: false, reason: "message_type: 'KojiBuildPackageCompleted' ≠ 'KojiTagChanged'" },
    { index: 3, matched: false, reason: "message_type: 'KojiBuildPackageCompleted' ≠ 'DistGitCommit'" },
    { index: 4, matched: false, reason: "message_type: 'KojiBuildPackageCompleted' ≠ 'GitHubPullRequestOpened'" },
  ]);
  const job = (task: string, arch: string) => ({ task, arch, item: 'ansible-1.8.3-1.el7', item_type: 'koji_build' });
  assert.deepEqual(out.jobs, [
    job('python-versions', 'x86_64'), job('python-versions', 'armhfp'), job('rpmgrill', 'x86_64'), job('rpmgrill', 'armhfp'),
    job('rpmlint', 'x86_64'), job('rpmlint', 'armhfp'), job('abicheck', 'x86_64'), job('abicheck', 'armhfp'),
  ]);
});

test('rules explain takes a datagrepper record and says why a message starts nothing', () => {
  const signed = join(corpusDir, 'fedmsg', 'buildsys.build.state.change__signed_datagrepper_04.json');
  const { code, stdout } = taskotron('rules', 'explain', rules, signed);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), 'no trigger data: the JobTrigger ignores it: build state BUILDING is not COMPLETE\nno jobs would start');
});

test('taskotron validate reports a broken rules file with file:line:column and path, and passes the real one', () => {
  const broken = join(dir, 'broken.trigger_rules.yml');
  writeFileSync(broken, '- when: {message_type: KojiTagChanged, tag: {$regex: "/^f[0-9/"}}\n  do: [{tasks: [rpmdeplint]}]\n');
  const bad = taskotron('validate', broken);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout.trim(), `${broken}:1:54: error: [0].when.tag["$regex"]: invalid $regex: Invalid regular expression: /^f[0-9/: Unterminated character class`);
  const good = taskotron('validate', rules);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.equal(good.stdout.trim(), `${rules}: valid trigger-rules`);
});
