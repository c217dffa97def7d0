// The operator's job commands, run as an operator runs them against the harness's real Temporal
// server with a real runner: `jobs run` forces jobs from the task sources, `jobs list` finds them by
// their search attributes (table and --json), `jobs show` tells one job's story from its history,
// `jobs rerun` resets it to its first workflow task, `jobs cancel` stops one. Every job's page carries
// user metadata: what it is from the start, how it ended at the end.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { projectRoot } from '../../src/devserver/project.js';
import { freePort } from '../../src/devserver/server.js';
import { fixtureTask, startTestRunner, type TestRunner } from '../support/job.js';
import { quietRuntime } from '../support/runtime.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { cliArgs } from '../support/cli.js';
import { waitFor } from '../support/until.js';

quietRuntime();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI in a child process; asynchronous, so this process's runner keeps working meanwhile. */
function taskotron(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...cliArgs(), ...args],
      { cwd: projectRoot(), env: { ...process.env, TEMPORAL_ADDRESS: testAddress() }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Visibility is eventually consistent: ask again until the answer satisfies, a bounded number of times. */
/** Asks until the answer is right; a timeout shows the last answer. Each ask may be a CLI run of a second. */
async function eventually<T>(ask: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  const right = await waitFor(() => `${what}; last answer: ${JSON.stringify(last)}`, async () => {
    last = await ask();
    return ok(last) && { answer: last };
  }, { timeoutMs: 60_000, intervalMs: 250 });
  return right.answer;
}

const KEYS = ['workflowId', 'task', 'item', 'itemType', 'arch', 'outcome', 'host', 'status', 'startTime', 'closeTime'];

describe('taskotron jobs', () => {
  let runner: TestRunner;
  let client: Client;
  let close: () => Promise<void>;
  const item = `${uniqueName('opsitem')}-1.0-1.fc40`;
  const taskRepo = `local:${fixtureTask('${task}')}`;
  const force = (task: string, ...more: string[]) =>
    taskotron('jobs', 'run', '--task', task, '--item', item, '--type', 'koji_build', '--arch', runner.arch, '--task-repo', taskRepo, '--job-queue', runner.workflowQueue, ...more);
  let failedId = '';

  before(async () => {
    runner = await startTestRunner({ hostname: uniqueName('opshost') });
    ({ client, close } = await testClient());
  });
  after(async () => {
    await runner.stop();
    await close();
  });

  test('jobs run --wait forces a job from the task sources, with an ID that says so, and reports its outcome', async () => {
    const failed = await force('reports', '--wait');
    assert.equal(failed.code, 1, failed.stderr);
    const id = /^Started (forced-[0-9a-f-]{36}\/reports\/\S+) /m.exec(failed.stdout)?.[1];
    assert.ok(id, failed.stdout);
    assert.ok(id.endsWith(`/${runner.arch}`));
    assert.match(failed.stdout, new RegExp(`^${id.replaceAll('/', '\\/')}: FAILED$`, 'm'));
    failedId = id;

    const passed = await force('slow', '--wait');
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /\/slow\/\S+: PASSED$/m);
  });

  test("a job's page says what it is (static summary and details) and how it ended (current details)", async () => {
    const handle = client.workflow.getHandle(failedId);
    const description = await handle.describe();
    assert.equal(await description.staticSummary(), `**reports** on koji\\_build \`${item}\` (${runner.arch})`);
    const details = (await description.staticDetails())!;
    assert.match(details, /Started by: `taskotron jobs run` \(forced by \S+@\S+\)/);
    assert.match(details, /Task source: local directory `.*test\/fixtures\/tasks\/reports`/);
    // The UI's "Current Details" tab asks the workflow through this built-in query.
    const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails, /^## Outcome: FAILED \(not a success\)$/m);
    assert.match(metadata.currentDetails, /\| 5 \| exit code \(exitcode\) \| passed \|/);
  });

  test('jobs list --json gives exactly the documented keys, filtered by the search attributes', async () => {
    const rows = await eventually(
      async () => JSON.parse((await taskotron('jobs', 'list', '--item', item, '--json')).stdout) as Record<string, unknown>[],
      (r) => r.length === 2 && r.every((row) => row.outcome),
      'both jobs listed with outcomes',
    );
    for (const row of rows) assert.deepEqual(Object.keys(row), KEYS);
    const failed = rows.find((r) => r.workflowId === failedId)!;
    assert.deepEqual(
      { ...failed, startTime: typeof failed.startTime, closeTime: typeof failed.closeTime },
      {
        workflowId: failedId,
        task: 'reports',
        item,
        itemType: 'koji_build',
        arch: runner.arch,
        outcome: 'FAILED',
        host: runner.worker.hostname,
        // A check that said FAILED is a job that ran to its end: the outcome, not the status, says FAILED.
        status: 'COMPLETED',
        startTime: 'string',
        closeTime: 'string',
      },
    );
    const onlyFailed = JSON.parse((await taskotron('jobs', 'list', '--item', item, '--outcome', 'failed', '--task', 'reports', '--arch', runner.arch, '--type', 'koji_build', '--since', '1h', '--json')).stdout) as { workflowId: string }[];
    assert.deepEqual(onlyFailed.map((r) => r.workflowId), [failedId]);
    const none = JSON.parse((await taskotron('jobs', 'list', '--item', item, '--since', '2099-01-01', '--json')).stdout) as unknown[];
    assert.deepEqual(none, []);
  });

  test('jobs list prints a table of task, item, arch, outcome, host and duration', async () => {
    const { code, stdout } = await taskotron('jobs', 'list', '--item', item);
    assert.equal(code, 0);
    const [header, ...lines] = stdout.trimEnd().split('\n');
    assert.match(header!, /^TASK\s+ITEM\s+ARCH\s+OUTCOME\s+HOST\s+DURATION\s+WORKFLOW ID$/);
    const reports = lines.find((l) => l.startsWith('reports'))!;
    assert.match(reports, new RegExp(`^reports\\s+${item}\\s+${runner.arch}\\s+FAILED\\s+${runner.worker.hostname}\\s+\\d+\\.\\ds\\s+${failedId}$`));
    assert.ok(lines.some((l) => /^slow\s.*\sPASSED\s/.test(l)), stdout);
  });

  test('a bad filter is one line naming the option, not a stack trace', async () => {
    // Three independent runs side by side: the unreachable one waits out the CLI's 5 s connect timeout.
    const port = await freePort();
    const [bad, missing, unreachable] = await Promise.all([
      taskotron('jobs', 'list', '--outcome', 'GREEN'),
      taskotron('jobs', 'show', 'no-such-job'),
      taskotron('jobs', 'list', '--address', `127.0.0.1:${port}`),
    ]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), "taskotron jobs: --outcome 'GREEN': expected one of PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED, CRASHED");
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), "taskotron jobs: no job with workflow ID 'no-such-job'");
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, new RegExp(`^taskotron jobs: cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(namespace default\\): .+\n$`));
  });

  test('jobs show tells the story: steps with durations, outcome, results, artifacts and the log tail', async () => {
    const { code, stdout } = await taskotron('jobs', 'show', failedId);
    assert.equal(code, 0, stdout);
    assert.match(stdout, new RegExp(`^Job:\\s+${failedId}$`, 'm'));
    // Plain words, not the Web UI's Markdown (`koji\_build`, `x86\_64`).
    assert.match(stdout, new RegExp(`^What:\\s+reports on koji_build ${item} \\(${runner.arch}\\)$`, 'm'));
    assert.match(stdout, /^Status:\s+COMPLETED after \d/m);
    assert.match(stdout, /^Outcome:\s+FAILED/m);
    assert.match(stdout, new RegExp(`^Host:\\s+${runner.worker.hostname}$`, 'm'));
    // How a host is taken (claimHost, or a slot held for the whole job) is the job workflow's business.
    for (const step of ['prepareWorkspace', 'loadFormula', '1-shell copy the xunit file into the artifacts', '2-xunit per-test results', '5-exitcode exit code']) {
      assert.match(stdout, new RegExp(`^  ${step}\\s+completed\\s+1\\s+\\d+\\.\\ds\\s+\\d+\\.\\ds$`, 'm'), `step ${step} in:\n${stdout}`);
    }
    assert.match(stdout, /^Artifacts:\n\s+\S+:\/.*\/artifacts\//m);
    assert.match(stdout, /^Last log lines \(\[1\] copy the xunit file into the artifacts\):\n {2}\| \$ "cp" "junit\.xml"/m);
  });

  test('jobs rerun resets the job to its first workflow task: a new run of the same job, the old run kept', async () => {
    // The re-run may land on any host of the arch; here a fresh one takes it.
    await runner.stop();
    runner = await startTestRunner({ hostname: uniqueName('opshost2'), arch: runner.arch, workflowQueue: runner.workflowQueue });
    const before = await client.workflow.getHandle(failedId).describe();
    const { code, stdout, stderr } = await taskotron('jobs', 'rerun', failedId);
    assert.equal(code, 0, stderr);
    const newRun = /new run (\S+) \(previous run (\S+) is kept\)/.exec(stdout);
    assert.ok(newRun, stdout);
    assert.equal(newRun[2], before.runId);
    assert.notEqual(newRun[1], before.runId);
    const after = await eventually(
      () => client.workflow.getHandle(failedId).describe(),
      (d) => d.status.name !== 'RUNNING',
      'the re-run finished',
    );
    assert.equal(after.runId, newRun[1]);
    assert.equal(after.typedSearchAttributes.get({ name: 'JobOutcome', type: 'KEYWORD' } as never), 'FAILED');
    assert.equal(after.typedSearchAttributes.get({ name: 'RunnerHost', type: 'KEYWORD' } as never), runner.worker.hostname);
    const shown = await taskotron('jobs', 'show', failedId);
    assert.match(shown.stdout, new RegExp(`^Run:\\s+${newRun[1]} \\(a re-run\\)$`, 'm'));
    const runs = await eventually(
      async () => JSON.parse((await taskotron('jobs', 'list', '--item', item, '--task', 'reports', '--json')).stdout) as { status: string; outcome: string }[],
      (r) => r.length === 2 && r.every((row) => row.outcome === 'FAILED'),
      'both runs of the job listed',
    );
    assert.equal(runs.length, 2);
  });

  test('jobs cancel stops a running job: it ends cancelled with outcome ABORTED; a second cancel is refused', async () => {
    const started = await force('sleepy');
    assert.equal(started.code, 0, started.stderr);
    const id = /^Started (\S+) /m.exec(started.stdout)![1]!;
    await eventually(
      async () => (await client.workflow.getHandle(id).describe()).raw.pendingActivities ?? [],
      (pending) => pending.some((p) => p.activityId === '2-shell' && p.lastStartedTime),
      'the sleep step running',
    );
    const shown = await taskotron('jobs', 'show', id);
    assert.match(shown.stdout, /^Outcome:\s+none yet \(running\)$/m);
    assert.match(shown.stdout, /^ {2}2-shell sleep\s+running\s+1\s+\d+\.\ds\s+-$/m);
    const cancel = await taskotron('jobs', 'cancel', id);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /^Cancel requested for /);
    const ended = await eventually(
      () => client.workflow.getHandle(id).describe(),
      (d) => d.status.name !== 'RUNNING',
      'the cancelled job closed',
    );
    assert.equal(ended.status.name, 'CANCELLED');
    assert.equal(ended.typedSearchAttributes.get({ name: 'JobOutcome', type: 'KEYWORD' } as never), 'ABORTED');
    const again = await taskotron('jobs', 'cancel', id);
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), `taskotron jobs: ${id} is not running (CANCELLED)`);
  });
});
