// `runtask` as a task author runs it: a real process, on the harness's Temporal server, through the
// job workflow. Exit codes as the original: 0, 100 when an exitcode action says so, 1 when crashed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { Connection } from '@temporalio/client';
import { projectRoot } from '../../src/devserver/project.js';
import { freePort } from '../../src/devserver/server.js';
import { fixtureTask } from '../support/job.js';
import { setupCluster } from '../../src/cli/setup.js';
import { testAddress, uniqueName } from '../support/temporal.js';
import { cliArgs } from '../support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'taskotron-runtask-'));

/** Runs runtask to its end; `onStdout` sees the output as it comes (to signal it mid-run); `env` adds to its environment. */
function runtask(
  args: string[],
  address = testAddress(),
  onStdout?: (stdout: string, child: ReturnType<typeof spawn>) => void,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliArgs('runtask'), '--address', address, '--root', root, ...args], {
      cwd: projectRoot(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => {
      // runtask exits with the code it printed, every time (issue 10: a late progress query once
      // turned a printed 0 into exit 1).
      const printed = /Exit code: (\d+)/.exec(stdout)?.[1];
      if (printed !== undefined) assert.equal(code, Number(printed), `printed 'Exit code: ${printed}' but exited ${code}\n${stdout}${stderr}`);
      resolve({ code, stdout, stderr });
    });
  });
}

const example = join(projectRoot(), 'examples', 'tasks', 'nvr-sanity', 'runtask.yml');

test('the example task runs green: every action passes, the result is reported, exit code 0', async () => {
  const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--uuid', 'example-green', example]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  for (const action of ['record the environment (shell)', 'run the check (python)', 'report results (resultsdb)', 'set the exit code (exitcode)']) {
    assert.match(run.stdout, new RegExp(`✔ \\[\\d\\] ${action.replace(/[()]/g, '\\$&')} passed`));
  }
  assert.match(run.stdout, /PASSED\s+scratch\.nvr-sanity\s+foo-1\.0-1\.fc40/);
  assert.match(run.stdout, /Outcome: {3}PASSED \(1 PASSED\)/);
  const artifacts = join(root, 'artifacts', 'example-green');
  assert.match(run.stdout, new RegExp(`Artifacts: ${artifacts}`));
  assert.match(readFileSync(join(artifacts, 'taskotron', 'results.yml'), 'utf8'), /outcome: PASSED/);
  assert.match(readFileSync(join(artifacts, 'environment.txt'), 'utf8'), /checking foo-1.0-1.fc40 on /);
});

test('the failing variant (an NVR without dist tag) reports FAILED and exits 100', async () => {
  const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1', example]);
  assert.equal(run.code, 100, run.stdout + run.stderr);
  assert.match(run.stdout, /FAILED\s+scratch\.nvr-sanity\s+foo-1\.0-1\s+\(release '1' has no dist tag\)/);
  assert.match(run.stdout, /Outcome: {3}FAILED/);
});

test('a crashing task exits 1 with CRASHED, the reason and the last log lines', async () => {
  const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', join(fixtureTask('crashing'), 'runtask.yml')]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /Outcome: {3}CRASHED/);
  assert.match(run.stdout, /Reason: {4}action 'run the check': check\.py:run failed \(the callable raised, exit 1\)/);
  assert.match(run.stdout, /\| RuntimeError: koji is unreachable \(simulated\)/);
});

test('a message field cannot inject shell syntax through runtask', async () => {
  const marker = join(root, 'pwned');
  const run = await runtask(['-t', 'koji_build', '-i', `x; touch ${marker}; $(touch ${marker}) \`touch ${marker}\``, example]);
  assert.equal(run.code, 100, run.stdout + run.stderr);
  assert.throws(() => readFileSync(marker), /ENOENT/);
});

test('usage errors exit 2, and are told before the Temporal SDK is loaded', async () => {
  // The SDK is most of a runtask process's start (about 0.7 s of CPU): a mistyped command line is
  // answered without it (src/cli/runtask-command.ts loads the run only once the options pass).
  const counting = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(join(projectRoot(), 'test', 'support', 'count-sdk-modules.mjs')).href}` };
  const run = await runtask(['-t', 'koji_build', example], testAddress(), undefined, counting);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /required option '-i, --item <item>' not specified/);
  assert.match(run.stderr, /# @temporalio modules loaded: 0\n/);
  const wait = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--wait-for-temporal', '0', example], testAddress(), undefined, counting);
  assert.equal(wait.code, 2);
  assert.match(wait.stderr, /--wait-for-temporal must be a positive number of seconds, got '0'/);
  assert.match(wait.stderr, /# @temporalio modules loaded: 0\n/);
});

test("--env adds variables to the task's sandbox; the runner's credentials cannot be added", async () => {
  const formula = join(fixtureTask('network'), 'runtask.yml');
  const run = await runtask(
    ['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--uuid', 'runtask-env', '--env', 'PROBE_PORT=1', '--env', 'FROM_RUNTASK', formula],
    testAddress(),
    undefined,
    { FROM_RUNTASK: 'passed', NOT_PASSED: 'hidden' },
  );
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const env = readFileSync(join(root, 'artifacts', 'runtask-env', 'env.txt'), 'utf8');
  assert.match(env, /^PROBE_PORT=1$/m);
  assert.match(env, /^FROM_RUNTASK=passed$/m);
  assert.doesNotMatch(env, /NOT_PASSED|TEMPORAL_/);
  const refused = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--env', 'TEMPORAL_API_KEY', formula]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--env TEMPORAL_API_KEY carries the runner's credentials and is never passed to tasks/);
});

test('with no Temporal server reachable, runtask starts an ephemeral one and runs the job there', async () => {
  const nobody = `127.0.0.1:${await freePort()}`;
  const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', example], nobody);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stderr, new RegExp(`No Temporal server at ${nobody} \\(nothing accepts connections there\\); starting an ephemeral one for this run\\.`));
  assert.match(run.stderr, /\(ephemeral server\)/);
  assert.match(run.stdout, /Outcome: {3}PASSED/);
});

/**
 * A TCP proxy to the test server that holds the bytes of its first `held` connections for `holdMs`
 * before it forwards them: a server that accepts at once and answers late, as a loaded one does.
 */
async function slowProxy(holdMs: number, held: number): Promise<{ address: string; close(): Promise<void> }> {
  const target = testAddress();
  const host = target.slice(0, target.lastIndexOf(':'));
  const port = Number(target.slice(target.lastIndexOf(':') + 1));
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const forward = () => {
      if (client.destroyed) return;
      const upstream = connect({ host, port });
      sockets.add(upstream);
      upstream.once('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.once('close', () => upstream.destroy());
      // Until piped, the client's bytes wait in its paused stream.
      client.pipe(upstream).pipe(client);
    };
    if (++accepted <= held) setTimeout(forward, holdMs);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// On a loaded machine the test server once took longer than runtask's 1.5 s probe to answer, and
// runtask ran the job on an ephemeral server of its own instead, past the namespace check.
test('a configured server that is slow to answer is waited for, not replaced by an ephemeral one', async () => {
  // Its first two connections (runtask's TCP check and its probe; before the fix, the probe's two
  // attempts, which share one connection) answer 3 s late.
  const proxy = await slowProxy(3000, 2);
  try {
    const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', example], proxy.address);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.doesNotMatch(run.stderr, /ephemeral/);
    assert.match(run.stderr, new RegExp(`on ${proxy.address.replace(/\./g, '\\.')}\n`));
    assert.match(run.stdout, /Outcome: {3}PASSED/);
  } finally {
    await proxy.close();
  }
});

test('something that accepts connections but never answers as Temporal is reported, and no ephemeral server is started', async () => {
  // Accepts and says nothing, as a wrong port or a firewall's proxy might.
  const silent = new Set<Socket>();
  const server = createServer((socket) => {
    silent.add(socket);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--wait-for-temporal', '2', example], address);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, new RegExp(`something accepts connections at ${address.replace(/\./g, '\\.')}, but no Temporal server answered there within 2 s`));
    assert.match(run.stderr, /give --ephemeral to run on a server of its own/);
    assert.doesNotMatch(run.stderr, /starting an ephemeral one/);
    assert.doesNotMatch(run.stdout, /▶/, 'no job was started');
  } finally {
    for (const socket of silent) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('Ctrl-C cancels the job: runtask prints the outcome ABORTED and the artifacts path, and exits 3', async () => {
  let interrupted = false;
  const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--uuid', 'cancelled-run', join(fixtureTask('sleepy'), 'runtask.yml')], testAddress(), (stdout, child) => {
    if (!interrupted && /▶ \[2\] sleep/.test(stdout)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  assert.equal(run.code, 3, run.stdout + run.stderr);
  assert.match(run.stdout, /Outcome: {3}ABORTED/);
  assert.match(run.stdout, /Reason: {4}the job was cancelled/);
  assert.match(run.stdout, new RegExp(`Artifacts: ${join(root, 'artifacts', 'cancelled-run')}`));
  assert.match(run.stdout, /Exit code: 3/);
});

// Bounded: before the check, runtask never ended on such a server.
test('a server not set up for taskotron is refused at once with the command that fixes it, not left to retry forever', { timeout: 90_000 }, async () => {
  // A namespace that does not exist on the server.
  const absent = uniqueName('runtask-absent');
  const missing = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--namespace', absent, example]);
  assert.equal(missing.code, 2, missing.stdout + missing.stderr);
  assert.match(missing.stderr, new RegExp(`not set up for taskotron: namespace ${absent} does not exist\\.`));
  assert.match(missing.stderr, new RegExp(`run \`taskotron setup --address ${testAddress().replace(/\./g, '\\.')} --namespace ${absent}\` once, or give --ephemeral`));

  // A namespace without the search attributes, as `temporal server start-dev` gives its default one:
  // every workflow task of the job would fail with BadSearchAttributes, and runtask never ended.
  const bare = uniqueName('runtask-bare');
  const connection = await Connection.connect({ address: testAddress() });
  try {
    // `taskotron setup` with no attributes to add: it registers the namespace and waits until the
    // server's namespace cache knows it.
    await setupCluster(connection, { namespace: bare, retentionSeconds: 86_400, attributes: [] });
  } finally {
    await connection.close();
  }
  const run = await runtask(['-t', 'koji_build', '-i', 'foo-1.0-1.fc40', '--namespace', bare, example]);
  assert.equal(run.code, 2, run.stdout + run.stderr);
  assert.match(run.stderr, new RegExp(`namespace ${bare} lacks the search attributes jobs set \\(TaskName, Item, ItemType, Arch, JobOutcome, RunnerHost, MessageType, MsgId\\)`));
  assert.doesNotMatch(run.stdout, /▶/, 'no job was started');
});
