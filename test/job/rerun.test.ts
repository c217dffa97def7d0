// Re-running a finished job the way an operator does it — `temporal workflow reset` (the Web UI's
// Reset is the same call) — runs it again cleanly: PASSED again, in an artifacts directory of its
// own beside the first run's, its results posted once more into a group of its own, and the record
// saying it is a re-run of which run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { JOB_WORKFLOW, type JobResult } from '../../src/common/job.js';
import { findTemporalCli } from '../../src/devserver/cli-binary.js';
import { projectRoot } from '../../src/devserver/project.js';
import { localJob, startTestRunner, type TestRunner } from '../support/job.js';
import { startResultsDBServer, type ResultsDBTestServer } from '../support/resultsdb-server.js';
import { quietRuntime } from '../support/runtime.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';

quietRuntime();

let resultsdb: ResultsDBTestServer;
let runner: TestRunner;
let client: Client;
let close: () => Promise<void>;

before(async () => {
  resultsdb = await startResultsDBServer();
  runner = await startTestRunner({ hostname: 'rerun-host', reporting: { resultsdbUrl: resultsdb.url } });
  ({ client, close } = await testClient());
});
after(async () => {
  await runner.stop();
  await close();
  await resultsdb.close();
});

test('temporal workflow reset of a finished job: PASSED again, artifacts of both runs kept, results posted once per run', { timeout: 180_000 }, async () => {
  const input = localJob(runner, 'nvr-sanity', { source: { kind: 'local', path: join(projectRoot(), 'examples', 'tasks', 'nvr-sanity') } });
  const workflowId = uniqueName('job-rerun');
  const first = await client.workflow.start(JOB_WORKFLOW, { taskQueue: runner.workflowQueue, workflowId, args: [input] });
  const one = (await first.result()) as JobResult;
  assert.equal(one.outcome, 'PASSED', one.reason);
  assert.equal(one.rerunOf, undefined);
  assert.equal(one.artifacts!.dir, join(runner.root, 'artifacts', input.uuid));

  execFileSync(findTemporalCli()!, ['workflow', 'reset', '--address', testAddress(), '--workflow-id', workflowId, '--type', 'FirstWorkflowTask', '--reason', 're-run from the test'], { encoding: 'utf8' });
  const latest = client.workflow.getHandle(workflowId);
  const rerunId = (await latest.describe()).runId;
  assert.notEqual(rerunId, first.firstExecutionRunId);
  const two = (await client.workflow.getHandle(workflowId, rerunId).result()) as JobResult;
  assert.equal(two.outcome, 'PASSED', two.reason);
  assert.equal(two.runId, rerunId);
  assert.equal(two.rerunOf, first.firstExecutionRunId, 'the record says it is a re-run, and of which run');
  assert.equal(two.artifacts!.dir, join(runner.root, 'artifacts', `${input.uuid}.rerun-${rerunId.slice(0, 8)}`));
  for (const result of [one, two]) {
    assert.match(readFileSync(join(result.artifacts!.dir, 'environment.txt'), 'utf8'), /checking foo-1.0-1.fc40 on /);
    assert.ok(existsSync(join(result.artifacts!.dir, 'taskotron', 'job')));
  }
  assert.equal(dirname(one.artifacts!.dir), dirname(two.artifacts!.dir));

  // One result per run, each posted once, each in its run's own group.
  const stored = resultsdb.results() as { groups: string[] }[];
  assert.equal(resultsdb.storedPosts(), 2);
  assert.deepEqual(stored.map((r) => r.groups), [[input.uuid], [`${input.uuid}.rerun-${rerunId.slice(0, 8)}`]]);
});
