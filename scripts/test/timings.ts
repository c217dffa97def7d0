// Per-file times of `npm test`: the order of the next run (longest first) and the summary printed at
// the end of every run. The committed scripts/test/timings.json seeds the order on a fresh clone;
// each run's measurements go to .cache/test-timings.json, which wins where it knows a file.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { procStat } from '../../test/support/processes.js';

export interface FileUsage {
  file: string;
  wallMs: number;
  /** CPU of the test file's own process. */
  cpuMs?: number;
  /** CPU of the processes it spawned and waited for. */
  childrenCpuMs?: number;
  maxRssMb?: number;
  passed: boolean;
}

const seedFile = (root: string) => join(root, 'scripts', 'test', 'timings.json');
const cacheFile = (root: string) => join(root, '.cache', 'test-timings.json');

function readTimes(path: string): Record<string, number> {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
  } catch {
    // A damaged cache only costs the order of one run.
    return {};
  }
}

/**
 * The test file (relative to root) a path of the run names: the file itself, or the .ts file a
 * JavaScript file in `.cache/test-build/<pid>/` was transpiled from (scripts/test/transpile.ts).
 */
export function sourceOf(root: string, file: string): string {
  const path = relative(root, file);
  const match = /^\.cache\/test-build\/\d+\/(.+)\.js$/.exec(path);
  return match ? `${match[1]}.ts` : path;
}

/** Files by recorded wall time, longest first; files never timed first of all (they may be long). */
export function longestFirst(root: string, files: string[]): string[] {
  const times = { ...readTimes(seedFile(root)), ...readTimes(cacheFile(root)) };
  const time = (file: string) => times[file] ?? Number.POSITIVE_INFINITY;
  return [...files].sort((a, b) => time(b) - time(a) || a.localeCompare(b));
}

/** The runner's per-file wall times and outcomes joined with what usage.mjs wrote from each file's process. */
export function readUsage(root: string, usageDir: string, resultsFile: string): FileUsage[] {
  const results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, { wallMs: number; passed: boolean }>) : {};
  const byFile = new Map<string, FileUsage>();
  for (const [file, result] of Object.entries(results)) byFile.set(sourceOf(root, file), { file: sourceOf(root, file), ...result });
  for (const name of existsSync(usageDir) ? readdirSync(usageDir) : []) {
    const record = JSON.parse(readFileSync(join(usageDir, name), 'utf8')) as Omit<FileUsage, 'passed'>;
    const file = sourceOf(root, record.file);
    const known = byFile.get(file);
    // The runner's wall time includes starting the process; the record's is the fallback.
    byFile.set(file, { ...record, file, wallMs: known?.wallMs ?? record.wallMs, passed: known?.passed ?? false });
  }
  return [...byFile.values()];
}

export function recordTimings(root: string, usage: FileUsage[]): void {
  if (usage.length === 0) return;
  const times = readTimes(cacheFile(root));
  for (const entry of usage) times[entry.file] = entry.wallMs;
  mkdirSync(dirname(cacheFile(root)), { recursive: true });
  const sorted = Object.fromEntries(Object.entries(times).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(cacheFile(root), `${JSON.stringify(sorted, null, 2)}\n`);
}

/** CPU of this process and of every process it waited for (and theirs): the whole run's CPU. */
export function treeCpuMs(): number | undefined {
  const own = process.cpuUsage();
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return Math.round((own.user + own.system) / 1000) + (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of the processes of a process group (a server started detached leads its own), summed
 * from /proc while they run; undefined off Linux. Says what the Temporal server and RabbitMQ cost a run.
 */
export function groupCpuMs(pgid: number): number | undefined {
  let total = 0;
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = procStat(name); // undefined: ended meanwhile
      if (stat?.pgrp === pgid) total += stat.cpuMs;
    }
  } catch {
    return undefined;
  }
  return total;
}

const seconds = (ms: number | undefined) => (ms === undefined ? '     ?' : `${(ms / 1000).toFixed(1).padStart(6)}`);

export function printSummary(
  usage: FileUsage[],
  run: { wallMs: number; concurrency: string; loadBefore: number[]; loadAfter: number[]; totalCpuMs: number | undefined; serversCpuMs?: Record<string, number | undefined> },
  shown = Number(process.env.TASKOTRON_TEST_SHOWN) || 12,
): void {
  if (usage.length === 0) return;
  const slowest = [...usage].sort((a, b) => b.wallMs - a.wallMs).slice(0, shown);
  const sum = (pick: (entry: FileUsage) => number | undefined) => usage.reduce((total, entry) => total + (pick(entry) ?? 0), 0);
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  console.log(`\n# slowest files: wall s, CPU s of the file's process + of the processes it waited for, peak RSS`);
  for (const entry of slowest) {
    const rss = entry.maxRssMb === undefined ? '' : `${String(entry.maxRssMb).padStart(5)} MB`;
    console.log(`# ${seconds(entry.wallMs)}  cpu ${seconds(entry.cpuMs)} + ${seconds(entry.childrenCpuMs)} ${rss}  ${entry.file}${entry.passed ? '' : '  (failed)'}`);
  }
  console.log(
    `# ${usage.length} files in ${seconds(run.wallMs).trim()} s at concurrency ${run.concurrency}: ` +
      `file wall ${seconds(sum((e) => e.wallMs)).trim()} s, CPU ${seconds(sum((e) => e.cpuMs)).trim()} s + ${seconds(sum((e) => e.childrenCpuMs)).trim()} s ` +
      `(${seconds(run.totalCpuMs).trim()} s with the servers and the harness); ` +
      `load average ${load(run.loadBefore)} before, ${load(run.loadAfter)} after`,
  );
  const servers = Object.entries(run.serversCpuMs ?? {}).filter(([, ms]) => ms !== undefined);
  if (servers.length > 0) console.log(`# servers' CPU (start-up included): ${servers.map(([name, ms]) => `${name} ${seconds(ms).trim()} s`).join(', ')}`);
}
