// Every recorded history must replay against today's workflow code, schedule exactly the activities
// the spec says, and every tampered copy must be rejected as nondeterministic.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { projectRoot } from '../../src/devserver/project.js';
import { workflowBundle } from '../../src/worker/runner-worker.js';
import { readHistory, scheduledActivityTypes, workflowType } from '../support/history.js';
import { quietRuntime } from '../support/runtime.js';

const dir = join(projectRoot(), 'test', 'histories');

/** The story each recorded job must tell, written from the spec rather than copied from the file. */
// job-*.json: recorded before slots (instant claimHost; patched('host-slots') absent), kept frozen.
const setup = ['claimHost', 'prepareWorkspace', 'loadFormula'];
// slots-*.json: today's shape, the job holding a host's slot (holdSlot) for its whole life.
const slotSetup = ['holdSlot', 'prepareWorkspace', 'loadFormula'];
const expected: Record<string, { workflowType: string; activities: string[] }> = {
  'probe-runner-pool.json': { workflowType: 'probeRunnerPool', activities: ['claimHost', 'describeHost'] },
  // examples/tasks/nvr-sanity: shell, python, resultsdb, exitcode — PASSED and FAILED (exit 100) runs.
  'job-passed.json': { workflowType: 'runJob', activities: [...setup, 'shell', 'python', 'reportResults', 'exitcode'] },
  'job-failed.json': { workflowType: 'runJob', activities: [...setup, 'shell', 'python', 'reportResults', 'exitcode'] },
  // ignorereturn passes two actions, the third fails for real and the fourth never runs.
  'job-crashed-ignorereturn.json': { workflowType: 'runJob', activities: [...setup, 'shell', 'shell', 'shell'] },
  // cancelled during the second action.
  'job-cancelled.json': { workflowType: 'runJob', activities: [...setup, 'shell', 'shell'] },
  // host-a died during the second action; the job started over on host-b and finished.
  'job-host-lost.json': { workflowType: 'runJob', activities: [...setup, 'shell', 'shell', ...setup, 'shell', 'shell', 'shell'] },
  'slots-job-passed.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode'] },
  'slots-job-failed.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode'] },
  'slots-job-crashed-ignorereturn.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', 'shell'] },
  'slots-job-cancelled.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell'] },
  // host-a killed during the second action: the slot's heartbeat stops, the job takes a slot on host-b.
  'slots-job-host-lost.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', ...slotSetup, 'shell', 'shell', 'shell'] },
  // nvr-sanity finished, then reset from the CLI: the re-run's history (its own artifacts dir and group).
  'slots-job-rerun.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode'] },
  // The same runs with the host's workdir removed once the job is over there
  // (patched('remove-workdir')); a cancelled job leaves it to the retention sweep.
  'workdir-job-passed.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode', 'removeWorkdir'] },
  'workdir-job-failed.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode', 'removeWorkdir'] },
  'workdir-job-crashed-ignorereturn.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', 'shell', 'removeWorkdir'] },
  'workdir-job-cancelled.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell'] },
  // The lost host is not asked to clean up; the host that finished the job is.
  'workdir-job-host-lost.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', ...slotSetup, 'shell', 'shell', 'shell', 'removeWorkdir'] },
  'workdir-job-rerun.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode', 'removeWorkdir'] },
  // Today's job shape: the same runs, the host ending the job's slot itself once its removeWorkdir
  // has run there (patched('slot-ends-itself'): holdSlot completes, no cancel); the workdir-job-*
  // files above keep the cancelled release.
  'slotend-job-passed.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode', 'removeWorkdir'] },
  'slotend-job-failed.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode', 'removeWorkdir'] },
  'slotend-job-crashed-ignorereturn.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', 'shell', 'removeWorkdir'] },
  // Recorded before patched('cancelled-job-removes-workdir'): a cancelled job left its workdir.
  'slotend-job-cancelled.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell'] },
  'slotend-job-host-lost.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', ...slotSetup, 'shell', 'shell', 'shell', 'removeWorkdir'] },
  'slotend-job-rerun.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'python', 'reportResults', 'exitcode', 'removeWorkdir'] },
  // Today's cancelled job: its workdir removed on its host after the cancel, as any other ending's.
  'cancelwd-job-cancelled.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', 'removeWorkdir'] },
  // host-a's slot timed out while its step still beat (the other side of the race slotend-job-host-lost
  // recorded): the step is cancelled and, since patched('lost-host-not-asked'), the lost host is not
  // asked to remove the workdir; before it, it was (removeWorkdir to host-a's queue, kept as recorded).
  'lostslot-job-host-lost.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', ...slotSetup, 'shell', 'shell', 'shell', 'removeWorkdir'] },
  'lostslot-job-host-lost-before-patch.json': { workflowType: 'runJob', activities: [...slotSetup, 'shell', 'shell', 'holdSlot', 'removeWorkdir', 'prepareWorkspace', 'loadFormula', 'shell', 'shell', 'shell', 'removeWorkdir'] },
  // Two changes of a tag within fuse_delay, one fire (a child job, no activity), recorded before the
  // debounce continued-as-new (patched('tag-debounce-handover') absent), kept frozen.
  'tag-debounce-before-handover.json': { workflowType: 'debounceKojiTag', activities: [] },
  // Today's shape: the same burst fired from a run that ends after its one fire...
  'tag-debounce-fired.json': { workflowType: 'debounceKojiTag', activities: [] },
  // ...and a window so busy that its run handed over (continue-as-new) before it went quiet.
  'tag-debounce-handover.json': { workflowType: 'debounceKojiTag', activities: [] },
  // ...and a change arriving during the fire (its discover held open): the run hands it over after firing.
  'tag-debounce-fired-handover.json': { workflowType: 'debounceKojiTag', activities: ['discoverTasks'] },
};

quietRuntime();

describe('recorded histories', () => {
  const files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  const tampered = readdirSync(join(dir, 'tampered')).filter((file) => file.endsWith('.json'));

  // Every history, recorded and tampered, replays on one replay worker (runReplayHistories) instead
  // of a worker of its own each: 56 workers' start and shutdown were most of this file's CPU. Each
  // history is its own workflow there, and a nondeterministic one fails alone; the tests below then
  // look up their own history's result.
  let replayed: Promise<Map<string, ReplayResult>> | undefined;
  const replayAll = () =>
    (replayed ??= (async () => {
      const histories = [
        ...files.map((file) => ({ workflowId: `replay-${file}`, history: readHistory(join(dir, file)) })),
        ...tampered.map((file) => ({ workflowId: `tampered-${file}`, history: readHistory(join(dir, 'tampered', file)) })),
      ];
      const results = new Map<string, ReplayResult>();
      for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.set(result.workflowId, result);
      return results;
    })());
  const resultOf = async (workflowId: string) => {
    const result = (await replayAll()).get(workflowId);
    assert.ok(result, `no replay result for ${workflowId}`);
    return result;
  };

  test('every recorded history has an expectation and vice versa', () => {
    assert.deepEqual(files.sort(), Object.keys(expected).sort());
  });

  for (const file of files) {
    test(`${file} replays without nondeterminism and schedules the expected activities`, async () => {
      const history = readHistory(join(dir, file));
      assert.equal(workflowType(history), expected[file]!.workflowType);
      assert.deepEqual(scheduledActivityTypes(history), expected[file]!.activities);
      const { error } = await resultOf(`replay-${file}`);
      if (error) throw error;
    });
  }

  test('there is a tampered copy of every recorded history', () => {
    for (const file of files) {
      assert.ok(tampered.some((t) => t.startsWith(file.replace(/\.json$/, '.'))), `no tampered copy of ${file}`);
    }
  });
  for (const file of tampered) {
    test(`tampered ${file} fails replay with a nondeterminism error`, async () => {
      const { error } = await resultOf(`tampered-${file}`);
      assert.ok(error instanceof DeterminismViolationError, `expected DeterminismViolationError, got ${String(error)}`);
      const reason = /Nondeterminism error: [^"]*/.exec(error.message)?.[0] ?? error.message;
      console.log(`# tampered ${file} rejected as expected: ${reason}`);
    });
  }
});
