// The Web UI tells the story, seen in a real browser (Debian's chromium driven by playwright-core)
// on the UI a real dev server serves (2.54.1 with CLI 1.9.1, 2.42.1 with 1.5.1): an operator filters the workflow list
// by Item, adds the JobOutcome column the way docs/operations-ui.md says, and sees each job with its
// outcome — a FAILED check is not just a green "Completed". The job's User Metadata tab says what it
// is and how it ended. Screenshots are kept under test-results/web-ui/ (gitignored).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureTemporalCli } from '../../src/devserver/cli-binary.js';
import { projectRoot } from '../../src/devserver/project.js';
import { freePort, startDevServer, type DevServer } from '../../src/devserver/server.js';
import { createRunnerWorker, type RunnerWorker } from '../../src/worker/runner-worker.js';
import { fixtureTask } from '../support/job.js';
import { quietRuntime } from '../support/runtime.js';
import { uniqueName } from '../support/temporal.js';
import { cliArgs } from '../support/cli.js';
import { until } from '../support/until.js';

quietRuntime();

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const shots = join(projectRoot(), 'test-results', 'web-ui');

function taskotron(address: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...cliArgs(), ...args, '--address', address], { cwd: projectRoot(), timeout: 180_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The UI answers a little after the frontend: ask until it serves its page, a bounded number of times. */
async function waitForUi(url: string): Promise<void> {
  let last = '';
  await until(() => `the Web UI at ${url} to answer; last: ${last}`, async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    last = `HTTP ${response.status}`;
    return response.ok;
  }, { timeoutMs: 60_000, intervalMs: 250, retryErrors: true });
}

describe('the Web UI tells the story', () => {
  let server: DevServer;
  let worker: RunnerWorker;
  let running: Promise<void>;
  let context: BrowserContext;
  let page: Page;
  let connection: Connection;
  let client: Client;
  const scratch = mkdtempSync(join(tmpdir(), 'taskotron-web-ui-'));
  const item = `${uniqueName('uiitem')}-1.0-1.fc40`;
  const arch = uniqueName('arch');
  const queue = uniqueName('workflows');
  const ids: Record<string, string> = {};

  before(async () => {
    const uiPort = await freePort();
    server = await startDevServer({ binary: ensureTemporalCli(), uiPort, logFile: join(scratch, 'server.log') });
    worker = await createRunnerWorker({
      temporal: { address: server.address, namespace: server.namespace },
      arch,
      hostname: 'builder-ui',
      workflowQueue: queue,
      workflowsOnMainThread: true,
      shutdownGraceMs: 1000,
      runner: { root: join(scratch, 'runner'), killGraceMs: 1000 },
    });
    running = worker.run();
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    // Three jobs on one item, forced as an operator would: a check that said FAILED, one that
    // crashed, one that passed.
    const runs = await Promise.all(
      ['reports', 'ignorereturn', 'slow'].map((task) =>
        taskotron(server.address, 'jobs', 'run', '--task', task, '--item', item, '--type', 'koji_build', '--arch', arch,
          '--task-repo', `local:${fixtureTask('${task}')}`, '--job-queue', queue, '--wait'),
      ),
    );
    for (const run of runs) {
      const started = /^Started (forced-\S+\/(\S+)\/\S+) /m.exec(run.stdout);
      assert.ok(started, `${run.stdout}${run.stderr}`);
      ids[started[2]!] = started[1]!;
    }
    await waitForUi(server.uiUrl!);
    mkdirSync(shots, { recursive: true });
    context = await chromium.launchPersistentContext(join(scratch, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1600, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await context?.close();
    worker?.shutdown();
    await running;
    await connection?.close();
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('filtered by Item, the list shows every job of the item with its outcome in the JobOutcome column', async () => {
    // Visibility is eventually consistent: the jobs are listed before the browser looks.
    for (let tries = 0; ; tries++) {
      const listed = [];
      for await (const w of client.workflow.list({ query: `Item = "${item}" AND JobOutcome IS NOT NULL` })) listed.push(w);
      if (listed.length === 3) break;
      assert.ok(tries < 100, `expected 3 finished jobs of ${item}, listed ${listed.length}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Filtered by Item through the list's own query parameter (what a bookmarked or shared list link
    // carries; the UI turns it into its "Item = …" filter chip). Typing into the query box differs
    // between UI versions (2.42.1 with CLI 1.5.1, 2.54.1 with CLI 1.9.1); the link works in both.
    await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`Item = "${item}"`)}`);
    await page.getByText(item).first().waitFor();
    const rows = page.getByTestId('workflows-summary-configurable-table-row');
    // The filtered list: exactly the item's three jobs (rows of other lists are gone).
    await rows.nth(2).waitFor();
    await page.getByTestId('workflows-summary-configurable-table-row').nth(3).waitFor({ state: 'detached' });

    // Once per browser: the gear opens the column drawer; the custom search attribute becomes a column.
    await page.getByTestId('workflows-summary-table-configuration-button').click();
    for (const column of ['JobOutcome', 'TaskName', 'Arch', 'RunnerHost']) await page.getByTestId(`orderable-list-item-${column}-add-button`).click();
    for (const column of ['Run ID', 'Type']) await page.getByTestId(`orderable-list-item-${column}-remove-button`).click();
    // Outcome right after Status, where the eye is (Status, Workflow ID, Start, End come first).
    for (let i = 0; i < 3; i++) await page.getByTestId('orderable-list-item-JobOutcome-move-up-button').click();
    await page.getByTestId('drawer-close-button').click();
    await page.getByTestId('drawer-close-button').waitFor({ state: 'hidden' });
    await page.getByTestId('workflows-summary-table-header-cell-JobOutcome').waitFor();
    const headers = await page.locator('th[data-testid^="workflows-summary-table-header-cell-"]').evaluateAll((cells) =>
      cells.map((cell) => cell.getAttribute('data-testid')!.replace('workflows-summary-table-header-cell-', '')),
    );
    assert.deepEqual(headers, ['Status', 'JobOutcome', 'Workflow ID', 'Start', 'End', 'TaskName', 'Arch', 'RunnerHost']);
    await page.screenshot({ path: join(shots, 'jobs-by-item.png') });

    const texts = await rows.allInnerTexts();
    assert.equal(texts.length, 3, texts.join('\n'));
    const row = (task: string) => texts.find((t) => t.includes(ids[task]!)) ?? assert.fail(`no row for ${task} in:\n${texts.join('\n')}`);
    // Status is Temporal's (did the job run to its end?); JobOutcome is the check's answer.
    assert.match(row('reports'), /(?:Completed|COMPLETED)[\s\S]*\tFAILED\b/);
    assert.match(row('ignorereturn'), /(?:Failed|FAILED)[\s\S]*CRASHED/);
    assert.match(row('slow'), /(?:Completed|COMPLETED)[\s\S]*PASSED/);
  });

  test('a documented saved-view link creates the "Not a success" view: the FAILED and CRASHED jobs, not the PASSED one', async () => {
    const query = 'WorkflowType = "runJob" AND JobOutcome IN ("FAILED", "NEEDS_INSPECTION", "CRASHED", "ABORTED")';
    await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}&savedQuery=${encodeURIComponent('Not a success')}`);
    await page.getByText('Not a success', { exact: true }).first().waitFor();
    const rows = page.getByTestId('workflows-summary-configurable-table-row');
    await rows.nth(1).waitFor();
    await page.getByTestId('workflows-summary-configurable-table-row').nth(2).waitFor({ state: 'detached' });
    await page.screenshot({ path: join(shots, 'saved-view-not-a-success.png') });
    const texts = (await rows.allInnerTexts()).join('\n');
    assert.ok(texts.includes(ids.reports!) && texts.includes(ids.ignorereturn!), texts);
    assert.ok(!texts.includes(ids.slow!), texts);
    // The view is kept by the browser, as the UI keeps every saved view.
    const saved = await page.evaluate("localStorage.getItem('saved-workflow-queries')") as string | null;
    assert.match(saved ?? '', /"name":"Not a success"/);
  });

  test("a job's User Metadata tab says what it is and how it ended, without opening the result JSON", async () => {
    const id = ids.reports!;
    const runId = (await client.workflow.getHandle(id).describe()).runId;
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(id)}/${runId}/user-metadata`);
    // The UI renders each Markdown text in its own iframe; "Current Details" comes from the workflow
    // itself (a query a worker answers), so it may arrive after the page.
    const rendered = async () => (await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')))).join('\n');
    let text = '';
    try {
      for (let tries = 0; tries < 100 && !text.includes('Outcome: FAILED (not a success)'); tries++) {
        if (tries > 0) await new Promise((r) => setTimeout(r, 200));
        text = await rendered();
      }
    } finally {
      await page.screenshot({ path: join(shots, 'failed-job-metadata.png'), fullPage: true });
    }
    assert.match(text, /^Outcome: FAILED \(not a success\)$/m);
    assert.ok(text.includes(`reports on koji_build ${item} (${arch})`), text);
    assert.match(text, /Started by: taskotron jobs run \(forced by /);
    assert.match(text, /exit code \(exitcode\)\s+passed/);
  });
});
