// The lint rules that keep workflow code replayable, and its modules safe to share between workflows,
// are part of the product's contract: prove they fire, and that they cover the whole workflow bundle.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { projectRoot } from '../../src/devserver/project.js';
import { workflowBundle } from '../../src/worker/runner-worker.js';

// Type-aware rules need files on disk; the import rules under test do not, so lint text with the
// typed parser options switched off.
const eslint = new ESLint({
  cwd: projectRoot(),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false, project: null } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
});

async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

const cases: { name: string; code: string; expect: RegExp | null }[] = [
  { name: 'a Node built-in', code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", expect: /no Node built-ins/ },
  { name: 'a bare built-in name', code: "import { randomUUID } from 'crypto';\nexport const x = randomUUID;\n", expect: /no Node built-ins/ },
  { name: 'activities as values', code: "import { createRunnerActivities } from '../activities/index.js';\nexport const x = createRunnerActivities;\n", expect: /only `import type` activities/ },
  { name: 'a process-spawning library', code: "import { execa } from 'execa';\nexport const x = execa;\n", expect: /must not import I\/O libraries/ },
  { name: 'the process global', code: 'export const env = process.env.HOME;\n', expect: /No process state in workflows/ },
  { name: 'activities as types', code: "import type { RunnerActivities } from '../activities/index.js';\nexport type X = RunnerActivities;\n", expect: null },
];

for (const { name, code, expect } of cases) {
  test(`workflow code importing ${name} is ${expect ? 'rejected' : 'allowed'} by lint`, async () => {
    const found = await problems(code, 'src/workflows/example.ts');
    if (expect) assert.ok(found.some((p) => expect.test(p)), `expected ${expect}, got ${JSON.stringify(found)}`);
    else assert.deepEqual(found, []);
  });
}

test('the same Node built-in is fine outside src/workflows', async () => {
  assert.deepEqual(await problems("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'src/activities/example.ts'), []);
});

// A worker evaluates the workflow bundle's modules once and shares them between all its workflows
// (preloadModules, src/worker/bundle.ts). Module-level state would then carry from one job into the next.
const MODULE_STATE = [
  { name: 'a module-level let', code: 'let runs = 0;\nexport function next(): number {\n  return ++runs;\n}\n', expect: /no `let` or `var` at module level/ },
  { name: 'an exported var', code: 'export var last = "";\n', expect: /no `let` or `var` at module level/ },
  { name: 'a module-level Map', code: 'const seen = new Map<string, number>();\nexport function count(k: string): number {\n  seen.set(k, (seen.get(k) ?? 0) + 1);\n  return seen.get(k)!;\n}\n', expect: /no objects built with `new` at module level/ },
  { name: 'a let inside a function', code: 'export function sum(xs: number[]): number {\n  let total = 0;\n  for (const x of xs) total += x;\n  return total;\n}\n', expect: null },
];
for (const { name, code, expect } of MODULE_STATE) {
  for (const file of ['src/workflows/example.ts', 'src/common/job.ts']) {
    test(`${name} in ${file} (in the workflow bundle) is ${expect ? 'rejected' : 'allowed'} by lint`, async () => {
      const found = await problems(code, file);
      if (expect) assert.ok(found.some((p) => expect.test(p)), `expected ${expect}, got ${JSON.stringify(found)}`);
      else assert.deepEqual(found, []);
    });
  }
}

test('module-level state is fine in a module the workflow bundle does not contain', async () => {
  assert.deepEqual(await problems('const seen = new Map<string, number>();\nexport const size = (): number => seen.size;\n', 'src/formula/parse.ts'), []);
});

test('the workflow bundle preloads the workflows, and each of its modules is under the module-state rule', async () => {
  // The harness's bundle for this run (TASKOTRON_WORKFLOW_BUNDLE), or one made here when run alone.
  // Made from src/ (./src/…/x.ts) or, as `npm run build` makes it, from dist/ (./dist/src/…/x.js):
  // either way each module is named by its source under src/.
  const bundle = await workflowBundle();
  const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
  assert.match(code, /exports\.preloadModules = function preloadModules\(\) \{\s*__webpack_require__\([^)]*"\.\/(?:src\/workflows\/index\.ts|dist\/src\/workflows\/index\.js)"\);/);
  const modules = [...new Set([...code.matchAll(/"\.\/(?:(src\/[^"]+)\.ts|dist\/(src\/[^"]+)\.js)"/g)].map((m) => `${m[1] ?? m[2]!}.ts`))].sort();
  assert.ok(modules.includes('src/workflows/job.ts') && modules.includes('src/common/job.ts'), `modules found: ${modules.join(', ')}`);
  const uncovered: string[] = [];
  for (const module of modules) {
    const config = (await eslint.calculateConfigForFile(join(projectRoot(), module))) as { rules?: Record<string, unknown> };
    if (!JSON.stringify(config.rules?.['no-restricted-syntax'] ?? []).includes("kind!='const'")) uncovered.push(module);
  }
  assert.deepEqual(uncovered, [], 'add these modules of the workflow bundle to the module-state rule in eslint.config.js');
});
