// `npm run bench`: runs every bench/*.bench.ts (or the ones named) one after another, each in its own
// process so one benchmark's warm-up or garbage does not colour the next. Each prints its own detail;
// the figures its goals are judged by (bench/figures.ts) are gathered into one table, written to
// bench/results.json (machine, date, figures) and into the "Latest run" section of docs/PERFORMANCE.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { projectRoot } from '../src/devserver/project.js';
import type { Figure } from '../bench/figures.js';

const root = projectRoot();
const named = process.argv.slice(2);
const files = named.length > 0 ? named : readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).sort().map((f) => join('bench', f));
const figuresFile = join(mkdtempSync(join(tmpdir(), 'taskotron-bench-')), 'figures.jsonl');

// The Debian packages benchmarks use (rabbitmq-server for bench/amqp-ingest.bench.ts's private node):
// the same idempotent script `npm test` and .ci/run call.
if (process.platform === 'linux') {
  const deps = spawnSync('bash', [join(root, 'scripts', 'system-deps.sh')], { stdio: 'inherit' });
  if (deps.status !== 0) process.exit(deps.status ?? 1);
}
// Benchmarks that run the compiled CLI need dist/ current; this compiles only what changed.
execFileSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], { stdio: 'inherit' });
const temporal = ensureTemporalCli();
const temporalVersion = execFileSync(temporal, ['--version'], { encoding: 'utf8' }).trim();

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  temporal: temporalVersion,
  loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
};
const started = new Date();
const failed: string[] = [];
for (const file of files) {
  console.log(`\n## ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: 'inherit', env: { ...process.env, BENCH_FIGURES_FILE: figuresFile } });
  if (run.status !== 0) failed.push(file);
}
const figures = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Figure & { bench: string })
  : [];

const number = (x: number | undefined, unit = '') => (x === undefined ? '' : `${Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(x >= 10 ? 1 : 2)}${unit ? ` ${unit}` : ''}`);
const header = ['figure', 'goal', 'measured', 'baseline', 'ratio', 'met'];
const rows = figures.map((f) => [f.figure, f.goal, number(f.measured, f.unit), number(f.baseline, f.unit), f.ratio === undefined ? '' : f.ratio.toFixed(2), f.goal === 'info' ? '' : f.met ? 'yes' : 'NO']);
const table = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const finished = new Date();
const loadAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
console.log(`\n# ${figures.length} figures from ${files.length} benchmarks (load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${loadAtEnd.join(' ')})\n`);
console.log(table);
if (failed.length > 0) console.log(`\nbenchmarks that failed: ${failed.join(', ')}`);

const results = {
  date: started.toISOString(),
  durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
  machine: { ...machine, loadAverageAtEnd: loadAtEnd },
  benchmarks: files.map((f) => basename(f)),
  failed,
  figures,
};
writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

// docs/PERFORMANCE.md keeps the latest full run between its markers (a partial run leaves it alone).
const docs = join(root, 'docs', 'PERFORMANCE.md');
const begin = '<!-- bench:latest:begin -->';
const end = '<!-- bench:latest:end -->';
const text = readFileSync(docs, 'utf8');
if (named.length === 0 && text.includes(begin) && text.includes(end)) {
  const section = [
    begin,
    `Run ${results.date.slice(0, 16).replace('T', ' ')} UTC, ${results.durationSeconds} s; ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.temporal}; load average ${machine.loadAverageAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end.`,
    '',
    table,
    end,
  ].join('\n');
  writeFileSync(docs, text.slice(0, text.indexOf(begin)) + section + text.slice(text.indexOf(end) + end.length));
  console.log(`\nbench/results.json and the "Latest run" table in docs/PERFORMANCE.md updated`);
} else {
  console.log(`\nbench/results.json written${named.length > 0 ? ' (a partial run: docs/PERFORMANCE.md left alone)' : ''}`);
}
process.exit(failed.length > 0 ? 1 : 0);
