// The lint rules that keep workflow code replayable are part of the product's contract: prove they fire.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { projectRoot } from '../../src/devserver/project.js';

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
