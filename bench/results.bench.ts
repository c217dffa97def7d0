// Reporting cost per job, against baselines measured in the same run:
//  1. validate + plan a 200-result ResultYAML (what every resultsdb action does before posting)
//     vs bare `yaml.parse` of the same text;
//  2. report those 200 results to the in-process test ResultsDB, exactly once (group lookup,
//     testcase checks, one POST each) vs the same 200 POSTs sent with bare fetch.
// Run: npx tsx bench/results.bench.ts   (bounded: fixed warm-up and sample counts)
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { planReport, postResults } from '../src/results/reporter.js';
import { ResultsDBClient } from '../src/results/resultsdb.js';
import { startResultsDBServer } from '../test/support/resultsdb-server.js';
import { reportFigures } from './figures.js';

const RESULTS = 200;
const text = `results:\n${Array.from({ length: RESULTS }, (_, i) =>
  [
    `  - item: pkg${i}-1.0-1.fc40`,
    '    type: koji_build',
    `    outcome: ${['PASSED', 'INFO', 'FAILED'][i % 3]}`,
    `    checkname: depcheck.sub${i % 10}`,
    `    note: ${i} warnings`,
    '    arch: [x86_64, noarch]',
    `    scenario: fedora.${i}`,
  ].join('\n'),
).join('\n')}\n`;
const artifactsdir = mkdtempSync(join(tmpdir(), 'taskotron-bench-'));
const job = () => ({ uuid: randomUUID(), task: 'depcheck', item: 'x', itemType: 'koji_build', arch: 'x86_64', namespace: 'dist', artifactsdir, artifactsBaseUrl: 'https://a.example/artifacts' });

function stats(samples: number[]): { median: number; p90: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p90: sorted[Math.floor(sorted.length * 0.9)]! };
}
function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}
async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

// 1. validate + plan
const plan: number[] = [];
const baseline: number[] = [];
for (let i = 0; i < 30; i++) {
  planReport(text, job());
  parse(text);
}
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < 100; i++) plan.push(time(() => planReport(text, job())));
  for (let i = 0; i < 100; i++) baseline.push(time(() => parse(text)));
}
const p = stats(plan);
const b = stats(baseline);
console.log(`validate + plan ${RESULTS} results: median ${ms(p.median)}, p90 ${ms(p.p90)}`);
console.log(`baseline yaml.parse:          median ${ms(b.median)}, p90 ${ms(b.p90)}  (ratio ${(p.median / b.median).toFixed(2)}×)`);

// 2. reporting over HTTP to the in-process test server
const server = await startResultsDBServer();
const client = new ResultsDBClient(server.url);
const report: number[] = [];
const bare: number[] = [];
for (let round = 0; round < 5; round++) {
  const planned = planReport(text, job());
  report.push(await timeAsync(() => postResults(client, planned, { testcaseRefUrl: (n) => `https://wiki.example/${n}` })));
  const payloads = planReport(text, job()).planned.map((q) => q.payload);
  bare.push(
    await timeAsync(async () => {
      for (const payload of payloads) {
        await (await fetch(`${server.url}/results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })).text();
      }
    }),
  );
}
const r = stats(report);
const f = stats(bare);
console.log(`report ${RESULTS} results exactly once: median ${ms(r.median)} (${((RESULTS / r.median) * 1000).toFixed(0)} results/s)`);
console.log(`baseline ${RESULTS} bare POSTs:           median ${ms(f.median)} (ratio ${(r.median / f.median).toFixed(2)}×)`);
await server.close();
reportFigures('results', [
  { figure: 'results: validate + plan 200 results vs yaml.parse', goal: 'info', measured: p.median, unit: 'ms', baseline: b.median, ratio: p.median / b.median, met: true },
  { figure: 'results: report 200 results exactly once vs bare POSTs', goal: 'info', measured: r.median, unit: 'ms', baseline: f.median, ratio: r.median / f.median, met: true },
]);
