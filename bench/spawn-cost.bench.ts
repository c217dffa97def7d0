// What a command's spawn costs the process that spawns it. Node 20's libuv (1.46) starts a child
// with a full fork() (clone(SIGCHLD), no CLONE_VM/CLONE_VFORK; check with `strace -f -e
// trace=clone,clone3 node -e "require('child_process').spawn('true')"`) and waits in uv_spawn until
// the child has exec'd, so the call blocks the spawning thread's event loop for as long as copying
// the parent's page tables takes: the bigger the parent, the longer.
// 1. `true` spawned 200 times by plain Node processes grown to +0, +150 and +350 MB of touched memory
//    (interleaved, several rounds): time inside the synchronous spawn() call.
// 2. A process running a real runner worker (dev server, polling, a job's workflow done): `true`
//    spawned directly vs through a small long-lived helper process asked over IPC (the idea of a
//    spawner for task commands), whole command and main-thread time blocked; and runSupervised
//    itself with its spawner (the default, src/activities/spawner.ts) and with TASKOTRON_SPAWNER=direct,
//    whole command and the main thread's busy time per command (event-loop utilisation).
// `npx tsx bench/spawn-cost.bench.ts [rounds]`. Prints figures only (nothing written).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { startDevServer } from '../src/devserver/server.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { createRunnerWorker } from '../src/worker/runner-worker.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { runSupervised } from '../src/activities/supervise.js';
import { median } from './figures.js';

const rounds = Number(process.argv[2] ?? 3);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

const GROWN = `const { spawn } = require('node:child_process');
const keep = []; for (let i = 0; i < Number(process.argv[1]); i++) { const b = Buffer.allocUnsafe(1 << 20); b.fill(i & 0xff); keep.push(b); }
const rss = Number(/VmRSS:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
(async () => { const sync = [];
  for (let i = 0; i < 200; i++) { const t0 = performance.now(); const c = spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'] }); sync.push(performance.now() - t0); c.stdout.resume(); c.stderr.resume(); await new Promise((r) => c.once('close', r)); }
  sync.sort((a, b) => a - b); console.log(JSON.stringify({ rss, sync: sync[100] })); })();`;

console.log(`1. spawn() call of \`true\` by a Node process of a given RSS (median of 200), load ${load()}`);
const grown: Record<number, { rss: number[]; sync: number[] }> = {};
for (let round = 0; round < rounds; round++) {
  for (const mb of [0, 150, 350]) {
    const out = spawnSync(process.execPath, ['-e', GROWN, String(mb)], { encoding: 'utf8' });
    const { rss, sync } = JSON.parse(out.stdout) as { rss: number; sync: number };
    (grown[mb] ??= { rss: [], sync: [] }).rss.push(rss);
    grown[mb].sync.push(sync);
  }
}
for (const [mb, { rss, sync }] of Object.entries(grown)) console.log(`   +${mb} MB (RSS ${median(rss).toFixed(0)} MB): ${median(sync).toFixed(2)} ms  [${sync.map((x) => x.toFixed(1)).join(', ')}]`);

installRuntimeLogger('ERROR');
const scratch = mkdtempSync(join(tmpdir(), 'taskotron-bench-'));
const server = await startDevServer({ binary: ensureTemporalCli(), dbFile: join(scratch, 'bench.db') });
const worker = await createRunnerWorker({ temporal: { address: server.address, namespace: server.namespace }, arch: 'bench', hostname: 'bench-host', workflowQueue: 'bench', runner: { root: join(scratch, 'runner') } });
const running = worker.run();
// The helper: a bare Node process that spawns what it is asked to (own process group, as runSupervised
// does) and answers with the exit code once the child's pipes are closed.
const HELPER = `const { spawn } = require('node:child_process');
process.on('message', (m) => { const c = spawn(m.argv[0], m.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  c.stdout.resume(); c.stderr.resume(); c.once('close', (code) => process.send({ id: m.id, code })); });`;
const helper = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
let seq = 0;
const viaHelper = (argv: string[]) =>
  new Promise<void>((resolve) => {
    const id = ++seq;
    const answer = (m: { id: number }) => {
      if (m.id !== id) return;
      helper.off('message', answer);
      resolve();
    };
    helper.on('message', answer);
    helper.send({ id, argv });
  });
try {
  await viaHelper(['true']);
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  const activity = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const supervised = () => activity.run(runSupervised, { argv: ['true'], cwd: scratch, logFile: join(scratch, 'log') });
  await supervised();
  const modes = ['direct', 'helper', 'runSupervised, spawner', 'runSupervised, direct'] as const;
  const figures: Record<string, { whole: number[]; blocked: number[] }> = Object.fromEntries(modes.map((mode) => [mode, { whole: [], blocked: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const whole: number[] = [];
      const blocked: number[] = [];
      if (mode.startsWith('runSupervised')) {
        if (mode.endsWith('direct')) process.env.TASKOTRON_SPAWNER = 'direct';
        const busy = performance.eventLoopUtilization();
        for (let i = 0; i < 100; i++) {
          const t0 = performance.now();
          await supervised();
          whole.push(performance.now() - t0);
        }
        // Busy time of the main thread per command (all of it: the worker's own work too).
        blocked.push(performance.eventLoopUtilization(busy).active / 100);
        delete process.env.TASKOTRON_SPAWNER;
        figures[mode]!.whole.push(median(whole));
        figures[mode]!.blocked.push(median(blocked));
        continue;
      }
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        if (mode === 'direct') {
          const child = spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
          blocked.push(performance.now() - t0);
          child.stdout.resume();
          child.stderr.resume();
          await new Promise((resolve) => child.once('close', resolve));
        } else {
          const done = viaHelper(['true']);
          blocked.push(performance.now() - t0);
          await done;
        }
        whole.push(performance.now() - t0);
      }
      figures[mode]!.whole.push(median(whole));
      figures[mode]!.blocked.push(median(blocked));
    }
  }
  console.log(`2. \`true\` from a process running a runner worker (RSS ${field('VmRSS').toFixed(0)} MB, page tables ${field('VmPTE').toFixed(1)} MB), medians of 100 per round, load ${load()}`);
  for (const [mode, { whole, blocked }] of Object.entries(figures)) {
    const what = mode.startsWith('runSupervised') ? 'main thread busy' : 'main thread blocked';
    console.log(`   ${mode.padEnd(22)} whole ${median(whole).toFixed(2)} ms, ${what} ${median(blocked).toFixed(3)} ms  [${whole.map((x) => x.toFixed(1)).join(', ')}]`);
  }
} finally {
  helper.kill();
  worker.shutdown();
  await running;
  await server.stop();
}
