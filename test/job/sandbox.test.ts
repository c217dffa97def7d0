// The job's sandbox and the supervised spawn, with real processes: a hostile task gets nowhere and the
// job still runs; networking follows the runner's config; `none` still filters the environment; a
// clone that outlasts the heartbeat timeout (and a wait on the mirror lock behind it) is not a lost
// host, and cancelling it kills git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { JOB_WORKFLOW, type JobInput, type JobResult } from '../../src/common/job.js';
import { projectRoot } from '../../src/devserver/project.js';
import { sandboxEnvEntryProblem } from '../../src/activities/runner-config.js';
import { sandboxEnvironment } from '../../src/activities/sandbox.js';
import { quietRuntime } from '../support/runtime.js';
import { localJob, runJobToEnd, startTestRunner, type TestRunner } from '../support/job.js';
import { jobProcesses, pidsMatching, processAlive } from '../support/processes.js';
import { testClient, uniqueName } from '../support/temporal.js';
import { until } from '../support/until.js';

quietRuntime();

const SECRET_PASSWORD = `password-${uniqueName('s')}`;
const SECRET_OTHER = `other-${uniqueName('s')}`;
const SECRET_KEY = `key-${uniqueName('s')}`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Task Author', '-c', 'user.email=author@example.org', ...args], { cwd, encoding: 'utf8' }).trim();
}

function upstreamRepo(): string {
  const upstream = mkdtempSync(join(tmpdir(), 'taskotron-upstream-'));
  cpSync(join(projectRoot(), 'examples', 'tasks', 'nvr-sanity'), upstream, { recursive: true });
  git(upstream, 'init', '--quiet', '--initial-branch=main');
  git(upstream, 'add', '.');
  git(upstream, 'commit', '--quiet', '-m', 'first');
  return upstream;
}

/** How long the job's prepareWorkspace step has been heartbeating, from its heartbeat details on the server. */
async function heartbeatElapsedMs(handle: WorkflowHandle): Promise<number> {
  const description = await handle.describe();
  // Other activities are pending too (the job's slot on its host heartbeats all along): pick the step.
  const step = (description.raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'prepareWorkspace');
  const payload = step?.heartbeatDetails?.payloads?.[0]?.data;
  if (!payload || payload.length === 0) return 0;
  const details = JSON.parse(Buffer.from(payload).toString('utf8')) as { elapsedMs?: number };
  return details.elapsedMs ?? 0;
}


describe('job sandbox', () => {
  let client: Client;
  let close: () => Promise<void>;
  let probe: Server;
  let probePort: number;
  const restoreEnv: Record<string, string | undefined> = {};

  function setEnv(name: string, value: string | undefined): void {
    if (!(name in restoreEnv)) restoreEnv[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }

  before(async () => {
    ({ client, close } = await testClient());
    probe = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    probePort = (probe.address() as { port: number }).port;
    // The runner runs in this process: these are the runner's own secrets.
    setEnv('TASKOTRON_RESULTSDB_PASSWORD', SECRET_PASSWORD);
    setEnv('HOSTILE_RUNNER_SECRET', SECRET_OTHER);
    setEnv('HOSTILE_PASSTHROUGH', 'passed-through');
  });
  after(async () => {
    for (const [name, value] of Object.entries(restoreEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await close();
    await new Promise((resolve) => probe.close(resolve));
  });

  test("a hostile task cannot read the runner's secrets, write outside its dirs, leave a daemon or kill its parent; the job still runs", async () => {
    // Outside /tmp (which the sandbox replaces), so only the mask keeps the task from reading it.
    const keyDir = mkdtempSync('/var/tmp/taskotron-tls-');
    const keyFile = join(keyDir, 'client.key');
    writeFileSync(keyFile, `${SECRET_KEY}\n`, { mode: 0o600 });
    const runner = await startTestRunner({
      runner: {
        sandbox: {
          backend: 'bwrap',
          network: true,
          env: [`HOSTILE_KEY_FILE=${keyFile}`, `HOSTILE_RUNNER_HOME=${homedir()}`, 'HOSTILE_PASSTHROUGH', 'TEMPORAL_ADDRESS'],
          hideFiles: [keyFile],
        },
      },
    });
    try {
      const { result } = await runJobToEnd(client, runner, localJob(runner, 'hostile'));
      assert.equal(result.outcome, 'PASSED', result.reason);
      assert.equal(result.exitCode, 0);
      assert.deepEqual(result.actions.map((a) => a.status), ['passed', 'passed', 'passed', 'passed', 'passed', 'passed']);
      const artifacts = result.artifacts!.dir;
      const read = (name: string) => readFileSync(join(artifacts, name), 'utf8');

      // Environment: the allow-list and the config's additions, nothing of the runner's.
      const env = read('env.txt');
      assert.match(env, new RegExp(`^TASKOTRON_UUID=${result.uuid}$`, 'm'));
      assert.match(env, /^HOSTILE_PASSTHROUGH=passed-through$/m);
      assert.match(env, /^PATH=/m);
      for (const text of [env, read('proc-environ.txt')]) {
        assert.ok(!text.includes(SECRET_PASSWORD) && !text.includes(SECRET_OTHER), 'a runner secret leaked into the task');
        assert.doesNotMatch(text, /^(TEMPORAL_|TASKOTRON_RESULTSDB_|HOSTILE_RUNNER_SECRET)/m);
      }
      assert.ok(!read('key.txt').includes(SECRET_KEY), "the runner's TLS key is masked");
      const realHome = new Set(readdirSync(homedir()));
      const seenHome = read('runner-home.txt').split('\n').filter(Boolean);
      assert.deepEqual(seenHome.filter((entry) => realHome.has(entry)), [], "the runner's home is hidden");

      // Writes: denied everywhere but the job's own directories.
      const escape = read('escape.txt').trim().split('\n');
      assert.equal(escape.length, 6, escape.join('\n'));
      assert.deepEqual(escape.filter((line) => !line.startsWith('denied ')), [], escape.join('\n'));
      for (const path of ['/etc/taskotron-hostile', '/usr/taskotron-hostile', join(homedir(), 'taskotron-hostile'), join(runner.root, 'taskotron-hostile'), '/var/tmp/taskotron-hostile']) {
        assert.ok(!existsSync(path), `${path} was written`);
      }
      assert.equal(read('own-dirs.txt'), 'ok\n');
      const sandboxDir = join(runner.root, 'sandbox', result.uuid);
      assert.equal(readFileSync(join(sandboxDir, 'tmp', 'scratch'), 'utf8'), 'mine\n', 'the private /tmp is the job’s, on the host');
      assert.equal(readFileSync(join(sandboxDir, 'home', 'scratch'), 'utf8'), 'mine\n');
      assert.equal(read('python.txt'), `home=${join(sandboxDir, 'home')} tmp=/tmp scratch=mine\n`, 'the python directive runs in the same sandbox');

      // Processes: the runner is out of reach, and nothing the job started outlives it.
      assert.equal(read('after-kill.txt'), 'survived\n');
      assert.doesNotMatch(read('kill-ps.txt'), /^\s*\d+ (\S*\/)?(node|tsx|temporal)\b/m, 'the runner is invisible from the sandbox');
      assert.match(read('daemon-ps.txt'), /sleep 600/);
      assert.deepEqual(jobProcesses(result.uuid), [], 'a process of the job outlived it');
      const logs = readdirSync(join(artifacts, 'taskotron')).filter((f) => f.endsWith('.log')).sort();
      assert.deepEqual(logs, ['01-snoop.log', '02-escape.log', '03-daemon.log', '04-kill-the-parent.log', '05-still-runs.log']);
      assert.match(read('taskotron/05-still-runs.log'), /\[sandbox: bwrap\]/);
    } finally {
      await runner.stop();
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  test('networking is on by default and off with runner.sandbox.network: false', async () => {
    const on = await startTestRunner({ runner: { sandbox: { backend: 'bwrap', network: true, env: [`PROBE_PORT=${probePort}`] } } });
    const off = await startTestRunner({ runner: { sandbox: { backend: 'bwrap', network: false, env: [`PROBE_PORT=${probePort}`] } } });
    try {
      const [withNetwork, without] = await Promise.all([runJobToEnd(client, on, localJob(on, 'network')), runJobToEnd(client, off, localJob(off, 'network'))]);
      assert.equal(withNetwork.result.outcome, 'PASSED', withNetwork.result.reason);
      assert.equal(without.result.outcome, 'PASSED', without.result.reason);
      assert.equal(readFileSync(join(withNetwork.result.artifacts!.dir, 'net.txt'), 'utf8').trim(), 'connected');
      assert.match(readFileSync(join(without.result.artifacts!.dir, 'net.txt'), 'utf8'), /(ConnectionRefused|Network is unreachable)[\s\S]*\nunreachable\n$/);
      assert.deepEqual([...jobProcesses(withNetwork.result.uuid), ...jobProcesses(without.result.uuid)], [], 'the setsid daemons died with their sandboxes');
    } finally {
      await Promise.all([on.stop(), off.stop()]);
    }
  });

  test("backend none runs commands directly, still with the allow-listed environment, the job's own HOME, and no daemon left", async () => {
    const runner = await startTestRunner({ runner: { keepWorkdirs: true, sandbox: { backend: 'none', network: true, env: [`PROBE_PORT=${probePort}`] } } });
    try {
      const { result } = await runJobToEnd(client, runner, localJob(runner, 'network'));
      assert.equal(result.outcome, 'PASSED', result.reason);
      const env = readFileSync(join(result.artifacts!.dir, 'env.txt'), 'utf8');
      assert.ok(!env.includes(SECRET_PASSWORD) && !env.includes(SECRET_OTHER));
      assert.match(env, new RegExp(`^HOME=${join(runner.root, 'sandbox', result.uuid, 'home')}$`, 'm'));
      const log = readFileSync(join(result.artifacts!.dir, 'taskotron', '01-probe.log'), 'utf8');
      assert.match(log, /\[sandbox: none\]/);
      // No PID namespace here: the supervisor finds the daemon by its command's marker and kills it.
      assert.match(log, /killed 1 process\(es\) the command left behind outside its process group/);
      // Without a PID namespace the daemon's pid is a host pid: it must be gone (a zombie at most).
      const daemon = Number(readFileSync(join(result.artifacts!.dir, '..', '..', 'work', result.uuid, 'daemon.pid'), 'utf8'));
      await until('the daemon to die', () => !processAlive(daemon), 5_000);
      assert.deepEqual(jobProcesses(result.uuid), [], 'the setsid daemon was killed');
    } finally {
      await runner.stop();
    }
  });

  test("the sandbox's environment is an allow-list; credentials cannot be added to it", () => {
    const env = sandboxEnvironment(
      { backend: 'bwrap', network: true, env: ['EXTRA=1', 'FROM_RUNNER', 'TEMPORAL_API_KEY', 'TASKOTRON_RESULTSDB_PASSWORD=x', 'UNSET_ONE'] },
      { TASKOTRON_UUID: 'u' },
      { PATH: '/bin', LANG: 'C.UTF-8', LC_ALL: 'C', FROM_RUNNER: 'r', TEMPORAL_API_KEY: 'secret', AWS_SECRET_ACCESS_KEY: 'secret', HOME: '/root' },
    );
    assert.deepEqual(env, { PATH: '/bin', LANG: 'C.UTF-8', LC_ALL: 'C', EXTRA: '1', FROM_RUNNER: 'r', TASKOTRON_UUID: 'u' });
    assert.match(sandboxEnvEntryProblem('TEMPORAL_API_KEY')!, /carries the runner's credentials/);
    assert.match(sandboxEnvEntryProblem('TASKOTRON_RESULTSDB_PASSWORD=x')!, /carries the runner's credentials/);
    assert.match(sandboxEnvEntryProblem('1BAD')!, /is not NAME or NAME=VALUE/);
    assert.equal(sandboxEnvEntryProblem('FOO=bar=baz'), undefined);
  });

  describe('cloning the task repository', () => {
    let runner: TestRunner;
    let gate: string;

    before(async () => {
      // Every clone this runner makes goes through a pack-objects hook that waits while the gate is closed.
      gate = mkdtempSync(join(tmpdir(), 'taskotron-gate-'));
      const gitConfig = join(gate, 'gitconfig');
      writeFileSync(gitConfig, `[uploadpack]\n\tpackObjectsHook = ${join(projectRoot(), 'test', 'fixtures', 'git', 'gated-pack-objects')}\n`);
      setEnv('GIT_CONFIG_GLOBAL', gitConfig);
      setEnv('TASKOTRON_TEST_GATE', gate);
      runner = await startTestRunner();
    });
    after(async () => {
      await runner.stop();
    });

    function gitJob(upstream: string): JobInput {
      // 4 s: the clone step's beats reach the server at most every min(0.8 × the timeout, 2 s), so at
      // 2 s a live step was 0.4 s without CPU from being taken for dead; at 4 s it is 2 s.
      return localJob(runner, 'nvr-sanity', { source: { kind: 'git', repo: `file://${upstream}`, ref: 'main' }, supervision: { heartbeatTimeoutSeconds: 4 } });
    }

    test('a clone longer than the heartbeat timeout, and a job waiting on the mirror lock behind it, finish on their host', async () => {
      const upstream = upstreamRepo();
      writeFileSync(join(gate, 'closed'), '');
      const start = (input: JobInput) => client.workflow.start(JOB_WORKFLOW, { taskQueue: runner.workflowQueue, workflowId: uniqueName('job-clone'), args: [input] });
      const first = await start(gitJob(upstream));
      let second: WorkflowHandle;
      try {
        await until('the clone to reach the gate', () => existsSync(join(gate, 'waiting')), 30_000);
        second = await start(gitJob(upstream));
        // Both steps stay alive well past the 4 s heartbeat timeout: one cloning, one waiting for the mirror.
        await until('both steps to heartbeat past 2× the heartbeat timeout', async () => (await heartbeatElapsedMs(first)) > 8_000 && (await heartbeatElapsedMs(second)) > 8_000, { timeoutMs: 30_000, intervalMs: 100 });
      } finally {
        // Whatever happened, let the clones go so the runner's slots are free for the next test.
        writeFileSync(join(gate, 'open'), '');
      }
      for (const handle of [first, second]) {
        const result = (await handle.result()) as JobResult;
        assert.equal(result.outcome, 'PASSED', result.reason);
        assert.equal(result.hosts.length, 1, `no host was lost: ${JSON.stringify(result.hosts)}`);
        assert.equal(result.hosts[0]!.lostBecause, undefined);
      }
      assert.match(readFileSync(join(runner.root, 'artifacts', (await first.result() as JobResult).uuid, 'taskotron', '00-prepare.log'), 'utf8'), /\$ "git" "clone" "--mirror"/);
    });

    test('cancelling a job during its clone kills git and everything it started', async () => {
      const upstream = upstreamRepo();
      for (const name of ['open', 'waiting']) if (existsSync(join(gate, name))) execFileSync('rm', [join(gate, name)]);
      writeFileSync(join(gate, 'closed'), '');
      const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: runner.workflowQueue, workflowId: uniqueName('job-clone'), args: [gitJob(upstream)] });
      await until('the clone to reach the gate', () => existsSync(join(gate, 'waiting')), 30_000);
      const cloning = pidsMatching(upstream);
      const hook = pidsMatching('gated-pack-objects');
      assert.ok(cloning.length >= 2 && hook.length >= 1, `git clone, upload-pack and the hook run: ${cloning} / ${hook}`);
      await handle.cancel();
      await assert.rejects(handle.result(), /cancel/i);
      await until('git to die', () => pidsMatching(upstream).length + pidsMatching('gated-pack-objects').length === 0, 5_000);
    });
  });
});
