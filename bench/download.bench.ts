// Download throughput of the `koji` directive vs `curl` fetching the same files from the same server
// in the same run. The server is the Koji stand-in (test/support/koji-hub-server.ts) on loopback,
// in a process of its own (bench/koji-stand-in-process.ts), serving real RPMs built here with rpmbuild: one build whose main RPM carries an incompressible
// payload (default 256 MiB), so the figure is about moving bytes, not about the XML-RPC calls.
// Three figures per round: curl (one process per file, -o to disk), the directive with the host
// cache off (XML-RPC, streaming to a temporary file, size check, rename), and the directive again
// with a warm cache (copy out of the cache). Medians over the rounds.
// `npx tsx bench/download.bench.ts [rounds] [payload MiB]` — bounded: rounds (default 5).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKojiAction, type KojiOutput, type KojiParams } from '../src/activities/directives/koji.js';
import type { ActionRequest } from '../src/activities/directives/context.js';
import { defaultRunnerConfig, type RunnerConfig } from '../src/activities/runner-config.js';
import { buildPackage } from '../test/support/rpm-fixtures.js';

const rounds = Number(process.argv[2] ?? 5);
const payloadMiB = Number(process.argv[3] ?? 256);
const scratch = mkdtempSync(join(tmpdir(), 'taskotron-bench-download-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const built = Date.now();
const rpms = buildPackage(join(scratch, 'rpmbuild'), { name: 'bigpkg', version: '1.0', release: '1.fc40', arches: ['x86_64'], pythonAbi: '3.12', payloadBytes: payloadMiB * 2 ** 20 });
// The stand-in runs in its own process, so curl and the directive face the same server.
const server = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'koji-stand-in-process.ts'), JSON.stringify([{ name: 'bigpkg', version: '1.0', release: '1.fc40', rpms }])], { stdio: ['pipe', 'pipe', 'inherit'] });
const [line] = (await once(server.stdout, 'data')) as [Buffer];
const [hubUrl, pkgUrl] = line.toString().trim().split(' ') as [string, string];
const koji = { hubUrl, pkgUrl };
const files = rpms.filter((r) => r.arch !== 'src' && !r.name.endsWith('-debuginfo'));
const bytes = files.reduce((sum, r) => sum + r.size, 0);
const urls = files.map((r) => `${koji.pkgUrl}/bigpkg/1.0/1.fc40/${r.arch}/${r.name}-${r.version}-${r.release}.${r.arch}.rpm`);
console.log(`# ${files.length} RPMs, ${(bytes / 2 ** 20).toFixed(1)} MiB, built in ${Date.now() - built} ms; ${cpus().length} CPUs, Node ${process.version}`);

const base = defaultRunnerConfig({});
function config(cache: boolean, root: string): RunnerConfig {
  return { ...base, root, services: { ...base.services, kojiUrl: koji.hubUrl, pkgUrl: koji.pkgUrl }, downloadCache: { enabled: cache, dir: join(scratch, 'cache'), maxSize: 4 * 2 ** 30 } };
}
function request(root: string, round: number): ActionRequest<KojiParams> {
  const job = { uuid: `r${round}`, task: 'bench', item: 'bigpkg-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64', taskdir: root, workdir: join(root, 'work'), artifactsdir: join(root, 'artifacts') };
  return { index: 1, name: 'download', params: { action: 'download', koji_build: 'bigpkg-1.0-1.fc40', arch: 'all' }, exported: true, job };
}

async function directive(cache: boolean, round: number): Promise<number> {
  const root = mkdtempSync(join(scratch, 'job-'));
  const started = performance.now();
  const result = await runKojiAction(request(root, round), config(cache, root));
  const elapsed = performance.now() - started;
  const got = (result.output as KojiOutput).downloaded_rpms!;
  if (got.reduce((sum, p) => sum + statSync(p).size, 0) !== bytes) throw new Error('the directive downloaded the wrong bytes');
  rmSync(root, { recursive: true, force: true });
  return elapsed;
}

// Async: the stand-in serves from this very process, so a blocking spawn would starve it.
const run = promisify(execFile);
async function curl(): Promise<number> {
  const dir = mkdtempSync(join(scratch, 'curl-'));
  const started = performance.now();
  for (const [i, url] of urls.entries()) await run('curl', ['-sSf', '-o', join(dir, `f${i}.rpm`), url]);
  const elapsed = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  return elapsed;
}

const results = { curl: [] as number[], directive: [] as number[], cached: [] as number[] };
await directive(false, -1); // warm-up: page cache, JIT
await curl();
for (let round = 0; round < rounds; round++) {
  results.curl.push(await curl());
  results.directive.push(await directive(false, round));
  rmSync(join(scratch, 'cache'), { recursive: true, force: true });
  await directive(true, 1000 + round); // fills the cache
  results.cached.push(await directive(true, 2000 + round));
}
server.stdin.end();
await once(server, 'exit');
rmSync(scratch, { recursive: true, force: true });

const mibs = (ms: number) => (bytes / 2 ** 20 / (ms / 1000)).toFixed(0);
const c = median(results.curl);
const d = median(results.directive);
const w = median(results.cached);
console.log(`curl, same files, same server:        ${c.toFixed(0)} ms  (${mibs(c)} MiB/s)`);
console.log(`koji directive, cache off:            ${d.toFixed(0)} ms  (${mibs(d)} MiB/s)  ratio to curl ${(d / c).toFixed(2)}`);
console.log(`koji directive, warm host cache:      ${w.toFixed(0)} ms  (${mibs(w)} MiB/s)  ratio to curl ${(w / c).toFixed(2)}`);
console.log(`(medians of ${rounds} rounds)`);
