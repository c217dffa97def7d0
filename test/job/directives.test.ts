// The rest of a job's toolbox on a real server: task code from a real git repository through the
// host's mirror, environment checks, formula-level retries, xunit, create_report and exitcode.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { projectRoot } from '../../src/devserver/project.js';
import { quietRuntime } from '../support/runtime.js';
import { localJob, runJobToEnd, startTestRunner, type TestRunner } from '../support/job.js';
import { testClient, uniqueName } from '../support/temporal.js';

quietRuntime();

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Task Author', '-c', 'user.email=author@example.org', ...args], { cwd, encoding: 'utf8' }).trim();
}

describe('job directives and sources', () => {
  let runner: TestRunner;
  let client: Client;
  let close: () => Promise<void>;

  before(async () => {
    // The retry test reads the attempts file the task left in its workdir.
    runner = await startTestRunner({ hostname: 'builder-git', runner: { keepWorkdirs: true } });
    ({ client, close } = await testClient());
  });
  after(async () => {
    await runner.stop();
    await close();
  });

  test('a task from a git repository runs at the requested ref, through the host mirror, and later jobs see new commits', async () => {
    const upstream = mkdtempSync(join(tmpdir(), 'taskotron-upstream-'));
    cpSync(join(projectRoot(), 'examples', 'tasks', 'nvr-sanity'), upstream, { recursive: true });
    git(upstream, 'init', '--quiet', '--initial-branch=main');
    git(upstream, 'add', '.');
    git(upstream, 'commit', '--quiet', '-m', 'first');
    const first = git(upstream, 'rev-parse', 'HEAD');
    const repo = `file://${upstream}`;
    const source = { kind: 'git' as const, repo, ref: 'main' };

    const one = await runJobToEnd(client, runner, localJob(runner, 'nvr-sanity', { source }));
    assert.equal(one.result.outcome, 'PASSED', one.result.reason);
    assert.equal(one.result.commit, first);
    assert.equal(one.result.taskRepo, repo);
    const mirrors = readdirSync(join(runner.root, 'mirror'));
    assert.equal(mirrors.length, 1, 'one bare mirror per repository on the host');

    writeFileSync(join(upstream, 'NEWS'), 'second\n');
    git(upstream, 'add', 'NEWS');
    git(upstream, 'commit', '--quiet', '-m', 'second');
    git(upstream, 'tag', 'v2');
    const second = git(upstream, 'rev-parse', 'HEAD');
    const two = await runJobToEnd(client, runner, localJob(runner, 'nvr-sanity', { source }));
    assert.equal(two.result.commit, second, 'the mirror fetched the new commit');
    const pinned = await runJobToEnd(client, runner, localJob(runner, 'nvr-sanity', { source: { ...source, ref: first } }));
    assert.equal(pinned.result.commit, first, 'a commit id as ref');
    const tagged = await runJobToEnd(client, runner, localJob(runner, 'nvr-sanity', { source: { ...source, ref: 'v2' } }));
    assert.equal(tagged.result.commit, second, 'a tag as ref');
    assert.deepEqual(readdirSync(join(runner.root, 'mirror')), mirrors);
  });

  test('missing environment.rpm dependencies crash the job at once, naming them, without retries', async () => {
    const { result, workflowId } = await runJobToEnd(client, runner, localJob(runner, 'needs-deps'));
    assert.equal(result.outcome, 'CRASHED');
    assert.match(result.reason!, /^checkEnvironment: builder-git lacks the task's dependencies: taskotron-no-such-package-anywhere \(installing them is off on this runner/);
    const history = JSON.parse(historyToJSON(await client.workflow.getHandle(workflowId).fetchHistory())) as { events: { activityTaskStartedEventAttributes?: { attempt?: number } }[] };
    const attempts = history.events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.ok(attempts.every((a) => a === 1), `no step was retried: ${JSON.stringify(attempts)}`);
  });

  test('an action with retry: in the formula is retried and then passes', async () => {
    const { result, workflowId } = await runJobToEnd(client, runner, localJob(runner, 'flaky'));
    assert.equal(result.outcome, 'PASSED', result.reason);
    assert.equal(readFileSync(join(runner.root, 'work', result.uuid, 'attempts'), 'utf8'), 'attempt\nattempt\n');
    const history = JSON.parse(historyToJSON(await client.workflow.getHandle(workflowId).fetchHistory())) as {
      events: { eventId: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } }; activityTaskStartedEventAttributes?: { attempt?: number; scheduledEventId: string } }[];
    };
    const shells = new Set(history.events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'shell').map((e) => e.eventId));
    const started = history.events.filter((e) => shells.has(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.equal(started.at(-1), 2, 'the shell step completed on its second attempt');
  });

  test('xunit turns xUnit XML into results, create_report writes the HTML report, exitcode says 100 for a failure', async () => {
    const item = 'foo-1.0-1.fc40';
    const { result } = await runJobToEnd(client, runner, localJob(runner, 'reports', { item, uuid: uniqueName('reports') }));
    assert.equal(result.outcome, 'FAILED', result.reason);
    assert.equal(result.exitCode, 100);
    const report = readFileSync(join(result.artifacts!.dir, 'report.html'), 'utf8');
    assert.match(report, /<td>smoke\.installs<\/td><td>foo-1\.0-1\.fc40<\/td><td>PASSED<\/td>/);
    assert.match(report, /<td>smoke\.answers<\/td><td>foo-1\.0-1\.fc40<\/td><td>FAILED<\/td><td>expected 200, got 503<\/td>/);
    assert.match(report, /2 PASSED, 1 FAILED/);
  });
});
