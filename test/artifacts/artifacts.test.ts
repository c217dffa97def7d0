// Artifacts on the web: the server a local stack runs (`taskotron artifacts serve`), the retention
// sweep (`taskotron artifacts clean`), and a real job whose every action log is a link, whose
// artifacts URL is in its result and memo, and whose workdir is gone when it ends.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JOB_WORKFLOW, type JobResult } from '../../src/common/job.js';
import { cleanArtifacts, parseRetention } from '../../src/artifacts/clean.js';
import { serveArtifacts, type ArtifactsServer } from '../../src/artifacts/server.js';
import { freePort } from '../../src/devserver/server.js';
import { projectRoot } from '../../src/devserver/project.js';
import { createRunnerWorker } from '../../src/worker/runner-worker.js';
import { localJob } from '../support/job.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { cliArgs } from '../support/cli.js';
import { quietRuntime } from '../support/runtime.js';

// A runner worker runs in this process: the SDK's INFO lines are not the test's output.
quietRuntime();

/** A raw GET: fetch() would normalise `..` away before sending it. */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('taskotron artifacts serve', () => {
  let dir: string;
  let server: ArtifactsServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskotron-artifacts-web-'));
    mkdirSync(join(dir, 'job-1', 'taskotron'), { recursive: true });
    writeFileSync(join(dir, 'job-1', 'taskotron', '01-run-the-check.log'), 'rpmlint: 0 errors\n');
    writeFileSync(join(dir, 'job-1', 'taskotron', 'results.yml'), 'results: []\n');
    writeFileSync(join(dir, 'job-1', 'report.html'), '<h1>report</h1>');
    writeFileSync(join(dir, 'job-1', 'output'), 'no extension, still text\n');
    writeFileSync(join(dir, 'job-1', '.secret'), 'hidden');
    symlinkSync('/etc/hostname', join(dir, 'job-1', 'escape'));
    symlinkSync('/etc', join(dir, 'job-1', 'etc'));
    server = await serveArtifacts(dir, `127.0.0.1:${await freePort()}`);
  });
  after(() => server.close());

  test('directories are listed, with links into them', async () => {
    const root = await fetch(server.url);
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await root.text(), /href="\/job-1"/);
    const job = await (await fetch(`${server.url}job-1/`)).text();
    assert.match(job, /taskotron/);
    assert.match(job, /report\.html/);
    assert.doesNotMatch(job, /\.secret/);
  });

  test('logs, YAML and extensionless files are shown as UTF-8 text; HTML as HTML', async () => {
    for (const [path, body] of [['job-1/taskotron/01-run-the-check.log', 'rpmlint: 0 errors\n'], ['job-1/taskotron/results.yml', 'results: []\n'], ['job-1/output', 'no extension, still text\n']] as const) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8', path);
      assert.equal(response.headers.get('content-disposition'), null, path);
      assert.equal(await response.text(), body);
    }
    assert.match((await fetch(`${server.url}job-1/report.html`)).headers.get('content-type') ?? '', /^text\/html/);
  });

  test('nothing outside the directory: no .., no symlinks out, no dotfiles', async () => {
    for (const path of ['/../../etc/hostname', '/job-1/../../etc/hostname', '/%2e%2e/%2e%2e/etc/hostname', '/job-1/%2e%2e%2f%2e%2e%2fetc/hostname', '/job-1/escape', '/job-1/etc/hostname', '/job-1/etc/', '/job-1/.secret']) {
      const answer = await rawGet(server.port, path);
      assert.ok([400, 403, 404].includes(answer.status), `${path} answered ${answer.status}`);
      assert.ok(!answer.body.includes(spawnSync('cat', ['/etc/hostname'], { encoding: 'utf8' }).stdout.trim() || '\u0000'), `${path} leaked the file`);
    }
  });
});

test('artifacts clean removes job directories untouched for longer than the retention period', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-artifacts-clean-'));
  const old = Date.now() / 1000 - 121 * 86_400;
  for (const name of ['old-job', 'old-but-touched', 'new-job']) {
    mkdirSync(join(dir, name, 'taskotron'), { recursive: true });
    writeFileSync(join(dir, name, 'taskotron', 'log'), 'x');
  }
  for (const path of ['old-job/taskotron/log', 'old-job/taskotron', 'old-job', 'old-but-touched/taskotron', 'old-but-touched']) utimesSync(join(dir, path), old, old);

  assert.deepEqual(cleanArtifacts(dir, parseRetention('120d'), { dryRun: true }), { removed: [join(dir, 'old-job')], kept: 2 });
  assert.ok(existsSync(join(dir, 'old-job')));
  const cli = spawnSync(process.execPath, [...cliArgs(), 'artifacts', 'clean', '--older-than', '120d', '--dir', dir], { cwd: projectRoot(), encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, `removed ${join(dir, 'old-job')}\n1 job artifact directory removed, 2 kept (${dir})\n`);
  assert.ok(!existsSync(join(dir, 'old-job')));
  assert.ok(existsSync(join(dir, 'old-but-touched')) && existsSync(join(dir, 'new-job')));

  assert.equal(parseRetention('2w'), 14 * 86_400);
  assert.equal(parseRetention('36h'), 36 * 3600);
  assert.throws(() => parseRetention('120 days', '--older-than'), /--older-than: '120 days' is not a duration \(e\.g\. 120d, 2w, 36h\)/);
});

test('taskotron artifacts serve runs as a command and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-artifacts-cli-'));
  writeFileSync(join(dir, 'hello.log'), 'hello\n');
  const port = await freePort();
  const child = spawn(process.execPath, [...cliArgs(), 'artifacts', 'serve', '--dir', dir, '--listen', `127.0.0.1:${port}`], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('serving')) resolve();
    });
    void exited.then(() => reject(new Error(output)));
  });
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/hello.log`)).text(), 'hello\n');
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test("a job's action logs are links, its artifacts URL is in the result and memo, and its workdir is removed at the end", { timeout: 120_000 }, async () => {
  const arch = uniqueName('arch');
  const workflowQueue = uniqueName('workflows');
  const root = mkdtempSync(join(tmpdir(), 'taskotron-runner-'));
  const worker = await createRunnerWorker({
    temporal: { address: testAddress(), namespace: 'default' },
    arch,
    hostname: uniqueName('host'),
    workflowQueue,
    workflowsOnMainThread: true,
    shutdownGraceMs: 1000,
    runner: { root, killGraceMs: 1000, artifactsBaseUrl: 'http://127.0.0.1:9470/' },
  });
  const running = worker.run();
  const { client, close } = await testClient();
  try {
    const input = localJob({ arch }, 'reports');
    const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName('job-reports'), args: [input] });
    const result = (await handle.result()) as JobResult;
    const base = `http://127.0.0.1:9470/${input.uuid}/`;
    assert.equal(result.artifacts?.url, base);
    assert.deepEqual(
      result.actions.filter((a) => a.log).map((a) => a.logUrl),
      result.actions.filter((a) => a.log).map((a) => `${base}taskotron/${a.log!.split('/taskotron/')[1]}`),
    );
    assert.ok(result.actions.some((a) => a.logUrl?.endsWith('/taskotron/01-copy-the-xunit-file-into-the-artifacts.log')), JSON.stringify(result.actions));
    const memo = (await handle.describe()).memo as Record<string, unknown>;
    assert.equal(memo.artifactsUrl, base);
    assert.equal(existsSync(join(root, 'work', input.uuid)), false, 'the workdir is removed');
    assert.equal(existsSync(join(root, 'artifacts', input.uuid, 'junit.xml')), true, 'the artifacts stay');
  } finally {
    await close();
    worker.shutdown();
    await running;
  }
});
