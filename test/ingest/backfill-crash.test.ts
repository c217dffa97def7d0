// Scenario: `taskotron ingest` killed with SIGKILL in the middle of a long backfill (a datagrepper
// stand-in with 400 matched messages in the window, read 100 a page at 1 page/s) while the live bus
// is open. After a restart the whole window is handled: every message has exactly one trigger
// workflow (visibility query), and the second run starts from where the first got to, not from "now".
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { freePort } from '../../src/devserver/server.js';
import { projectRoot } from '../../src/devserver/project.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { corpusEnvelope } from './corpus.js';
import { startDatagrepper } from './datagrepper-server.js';
import { lastCounters, publishTo, scratchDir } from './support.js';
import { until } from '../support/until.js';
import { cliArgs } from '../support/cli.js';

let client: Client;
let close: () => Promise<void>;
before(async () => ({ client, close } = await testClient()));
after(async () => close());

// Four pages at one page a second: the first run cannot finish the window in less than 3 s, while
// its checkpoint (written every second) is inside the window after one or two, so the kill always
// lands mid-backfill. Each message is a trigger workflow start on the harness's server: 1,500 of
// them (the window until 2026-12-04) cost that server ~12 s more CPU than 400, which show as much.
const WINDOW = 400;
const build = (timestamp: number) => ({ ...corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', `2026-${crypto.randomUUID()}`), timestamp });

function savedCheckpoint(dir: string): number {
  try {
    return (JSON.parse(readFileSync(join(dir, 'state', 'checkpoint.json'), 'utf8')) as { timestamp: number }).timestamp;
  } catch {
    return 0;
  }
}

function startIngest(dir: string, datagrepper: string, endpoint: string, queue: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  writeFileSync(join(dir, 'trigger.cfg'), `[trigger]\nvalid_arches = x86_64\nrules_template = ${join(dir, 'trigger_rules.yml')}\ndatagrepper_url = ${datagrepper}\n\n[ingest]\nbackfill_rate = 1\n`);
  const child = spawn(
    process.execPath,
    [...cliArgs(), 'ingest', '--config', join(dir, 'trigger.cfg'), '--bind', endpoint, '--trigger-queue', queue, '--ingest-queue', queue, '--job-queue', queue,
      '--state-dir', join(dir, 'state'), '--stats-interval', '1'],
    { cwd: projectRoot(), env: { ...process.env, TEMPORAL_ADDRESS: testAddress() }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

test('kill -9 mid-backfill: after a restart the whole window is handled, nothing twice', { timeout: 600_000 }, async () => {
  const dir = scratchDir('backfill-crash');
  writeFileSync(join(dir, 'trigger_rules.yml'), '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n');
  const t0 = Math.floor(Date.now() / 1000) - 7200;
  const window = Array.from({ length: WINDOW }, (_, i) => build(t0 + 1 + i * 2));
  const datagrepper = await startDatagrepper(window);
  // The first run finds a checkpoint from an earlier life: its window starts there.
  mkdirSync(join(dir, 'state'), { recursive: true });
  writeFileSync(join(dir, 'state', 'checkpoint.json'), `${JSON.stringify({ timestamp: t0 })}\n`);
  // A trigger queue nobody polls: the starts are under test, not the trigger workflows' work.
  const queue = uniqueName('backfill-crash');
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const query = `WorkflowType = "triggerJobs" AND TaskQueue = "${queue}"`;
  try {
    const first = startIngest(dir, datagrepper.url, endpoint, queue);
    try {
      await until(() => `ingest to be ready:\n${first.output()}`, () => first.output().includes('taskotron ingest: ready on'), 60_000);
      // The live bus moves on while the backfill reads: a message from now.
      const live = build(Math.floor(Date.now() / 1000));
      await publishTo(endpoint, [live]);
      window.push(live);
      await until('the backfill to be under way (its second page asked for)', () => datagrepper.requests.length >= 2, 120_000);
      // Killed once the checkpoint (written every second) has moved into the window: a resume point
      // that is not the start, so the restart shows it resumes rather than reads the window again.
      await until('the checkpoint to move into the window', () => savedCheckpoint(dir) > t0 + 100, 60_000);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    assert.ok(!first.output().includes('backfill done'), 'killed mid-backfill, not after it');
    const checkpoint = savedCheckpoint(dir);
    assert.ok(checkpoint > t0 + 100 && checkpoint < t0 + WINDOW * 2, `the checkpoint stayed inside the window (${checkpoint - t0} s in), not at the live message`);
    const startedBefore = (await client.workflow.count(query)).count;
    assert.ok(startedBefore < window.length, `the first run started only part of the window (${startedBefore})`);
    const requestsBefore = datagrepper.requests.length;

    const second = startIngest(dir, datagrepper.url, endpoint, queue);
    try {
      await until(() => `the second backfill to finish:\n${second.output().slice(-2000)}`, () => second.output().includes('backfill done'), 240_000);
      const resumedFrom = Number(datagrepper.requests[requestsBefore]!.params.get('start'));
      assert.equal(resumedFrom, checkpoint - 60, 'resumed at the checkpoint (less the overlap)');
      // It read the window from there on only (what the stand-in holds from the resume point, the live
      // message included), not the part the first run had handled.
      const rest = window.filter((m) => m.timestamp >= resumedFrom).length;
      await until(() => `the second run to count ${rest} backfilled: ${JSON.stringify(lastCounters(second.output()))}`, () => lastCounters(second.output()).backfilled === rest, 30_000);
      await until(() => `${window.length} trigger workflows by visibility`, async () => (await client.workflow.count(query)).count === window.length, { timeoutMs: 300_000, intervalMs: 250 });
      const seen = new Set<string>();
      for await (const w of client.workflow.list({ query })) {
        assert.ok(!seen.has(w.workflowId), `${w.workflowId} twice`);
        seen.add(w.workflowId);
      }
      for (const m of window) assert.ok(seen.has(`msg-${m.msg_id}`), `msg-${m.msg_id} missing`);
      // The checkpoint passes only messages whose start was durable: the second run, reading the
      // overlap again, finds those already started and starts none of them a second time.
      const stats = lastCounters(second.output());
      const afterCheckpoint = window.filter((m) => m.timestamp > checkpoint).length;
      assert.ok((stats.started ?? 0) >= 1 && (stats.started ?? 0) <= afterCheckpoint, `the second run started only messages after the checkpoint (${afterCheckpoint}): ${JSON.stringify(stats)}`);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output().slice(-2000));
    }
  } finally {
    await datagrepper.close();
  }
});
