// Formula cost per job: parse + validate + substitute every action of a 20-action runtask.yml,
// against a baseline measured in the same run: bare `yaml.parse` of the same text. Also the same
// pipeline forced through the position-keeping parse (what an invalid formula pays).
// Run: npx tsx bench/formula.bench.ts   (bounded: fixed warm-up and sample counts)
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { parseFormula, parseFormulaFast, parseFormulaWithPositions } from '../src/formula/parse.js';
import { reportFigures } from './figures.js';
import { builtinVariables, substituteParams } from '../src/formula/substitute.js';

const WARMUP = 300;
const SAMPLES = 2000;

// Twenty actions in the shape real tasks have: downloads, python checks, shell lines and argv,
// dist-git, reporting; exports flowing forward so substitution has work to do.
function twentyActionFormula(): string {
  const lines = [
    'name: bench-task',
    'namespace: dist',
    'desc: a 20-action formula for the benchmark',
    'maintainer: bench',
    'input:',
    '  args: [koji_build, arch]',
    'environment:',
    '  rpm: [rpmlint, python3-koji, createrepo_c]',
    'timeout: 2h',
    'actions:',
  ];
  for (let i = 0; i < 4; i++) {
    lines.push(
      `  - name: download ${i}`,
      '    koji:',
      '      action: download',
      '      koji_build: ${koji_build}',
      '      arch: ["${arch}", noarch]',
      '      target_dir: ${workdir}/rpms',
      `    export: dl${i}`,
      '    retry: {attempts: 3, backoff: 30s}',
      `  - name: check ${i}`,
      '    python:',
      '      file: check.py',
      '      callable: run',
      '      koji_build: ${koji_build}',
      `      rpms: \${dl${i}.downloaded_rpms}`,
      '      workdir: ${workdir}',
      '      artifactsdir: ${artifactsdir}',
      `    export: out${i}`,
      `  - name: lint ${i}`,
      '    shell:',
      '      - rpmlint --info ${workdir}/rpms > ${artifactsdir}/rpmlint.log',
      `      - [rpmlint, "\${dl${i}.downloaded_rpms}"]`,
      '      - ignorereturn: \'grep -c "E: " ${artifactsdir}/rpmlint.log\'',
      '    timeout: 20m',
      `  - name: fetch spec ${i}`,
      '    distgit:',
      '      package: ${koji_build}',
      '      gitref: f40',
      '      path: ["${koji_build}.spec"]',
      `  - name: report ${i}`,
      '    resultsdb:',
      `      results: \${out${i}}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const text = twentyActionFormula();
const variables = builtinVariables({
  item: 'foo-1.0-1.fc40',
  itemType: 'koji_build',
  arch: 'x86_64',
  uuid: '20261128_120000_000000',
  jobid: 'bench/1',
  artifactsdir: '/var/lib/taskotron/artifacts/20261128_120000_000000',
  workdir: '/var/tmp/taskotron/work',
  taskdir: '/var/tmp/taskotron/task',
  checkname: 'bench-task',
  namespace: 'dist',
});
const exported = { downloaded_rpms: ['/w/rpms/foo-1.0-1.fc40.x86_64.rpm', '/w/rpms/foo-doc-1.0-1.fc40.noarch.rpm'] };

function fullPipeline(parser = parseFormula): number {
  const { formula, errors } = parser(text, 'runtask.yml');
  if (!formula || errors.length) throw new Error('the bench formula must be valid');
  const vars: Record<string, unknown> = { ...variables };
  let n = 0;
  formula.actions.forEach((action, i) => {
    const params = substituteParams(action.directive, action.params, vars, { action: action.name, path: `actions[${i}]` });
    if (action.export) vars[action.export] = action.directive === 'koji' ? exported : 'results: []';
    if (params) n++;
  });
  return n;
}

function baseline(): number {
  return (parse(text) as { actions: unknown[] }).actions.length;
}

function measure(fn: () => number): number[] {
  for (let i = 0; i < WARMUP; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

if (fullPipeline() !== 20) throw new Error('expected 20 actions');
if (!parseFormulaFast(text, 'runtask.yml')) throw new Error('the bench formula must take the fast path');
const slowPipeline = () => fullPipeline(parseFormulaWithPositions);
// Interleave the two so drift in machine load affects both alike.
const full: number[] = [];
const bare: number[] = [];
const slow: number[] = [];
for (let round = 0; round < 4; round++) {
  full.push(...measure(() => fullPipeline()).slice(0, SAMPLES));
  bare.push(...measure(baseline).slice(0, SAMPLES));
  slow.push(...measure(slowPipeline).slice(0, SAMPLES));
}
full.sort((a, b) => a - b);
bare.sort((a, b) => a - b);
slow.sort((a, b) => a - b);

const ms = (x: number): string => `${x.toFixed(3)} ms`;
console.log(`formula: ${text.split('\n').length - 1} lines, 20 actions; ${full.length} samples each after warm-up`);
console.log(`parse + validate + substitute: median ${ms(pct(full, 0.5))}, p90 ${ms(pct(full, 0.9))}, p99 ${ms(pct(full, 0.99))}`);
console.log(`same, position-keeping parse:  median ${ms(pct(slow, 0.5))}, p90 ${ms(pct(slow, 0.9))}, p99 ${ms(pct(slow, 0.99))}  (an invalid formula's path)`);
console.log(`baseline yaml.parse:           median ${ms(pct(bare, 0.5))}, p90 ${ms(pct(bare, 0.9))}, p99 ${ms(pct(bare, 0.99))}`);
console.log(`formula work on top of the YAML parse (median difference): ${ms(pct(full, 0.5) - pct(bare, 0.5))}`);
console.log(`ratio (median): ${(pct(full, 0.5) / pct(bare, 0.5)).toFixed(1)}x; goal: median under 1 ms -> ${pct(full, 0.5) < 1 ? 'met' : 'NOT met'}`);
reportFigures('formula', [
  { figure: 'formula: parse + validate + substitute, 20 actions (median)', goal: '< 1 ms', measured: pct(full, 0.5), unit: 'ms', baseline: pct(bare, 0.5), ratio: pct(full, 0.5) / pct(bare, 0.5), met: pct(full, 0.5) < 1 },
]);
