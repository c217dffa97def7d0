// Lint that protects workflow determinism: workflow code runs in Temporal's sandbox and is
// replayed from history, so it must not touch Node built-ins, the clock or I/O, and may only
// reference activities by type (they run elsewhere, through proxyActivities).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.taskotron/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/test return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', name: ['describe', 'test', 'it', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code is replayed deterministically: no Node built-ins (do I/O in an activity).',
          })),
          patterns: [
            {
              group: ['**/activities', '**/activities/**', '@temporalio/activity', '@temporalio/worker', '@temporalio/client'],
              allowTypeImports: true,
              message: 'Workflows may only `import type` activities; call them through proxyActivities.',
            },
            {
              group: ['execa', 'zeromq', 'yaml', '**/ingest/**', '**/cli/**'],
              message: 'Workflow code must not import I/O libraries.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process state in workflows: pass it in as workflow input.' },
        { name: 'setInterval', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'fetch', message: 'No network in workflows: use an activity.' },
      ],
    },
  },
  {
    // Every module of the workflow bundle (test/lint/determinism.test.ts checks the list against
    // the bundle). A worker evaluates them once and shares them between all its workflows
    // (preloadModules, src/worker/bundle.ts): state at module level would leak from one job into the next.
    files: [
      'src/workflows/**/*.ts',
      'src/common/{failures,job,job-metadata,queues,search-attributes}.ts',
      'src/formula/{duration,shell-words,substitute,template}.ts',
      'src/results/{errors,model,policy}.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "Program > VariableDeclaration[kind!='const'], Program > ExportNamedDeclaration > VariableDeclaration[kind!='const']",
          message: 'Workflow modules are shared by every workflow of a worker: no `let` or `var` at module level (keep state in the workflow function).',
        },
        {
          selector: 'Program > VariableDeclaration > VariableDeclarator > NewExpression, Program > ExportNamedDeclaration > VariableDeclaration > VariableDeclarator > NewExpression',
          message: 'Workflow modules are shared by every workflow of a worker: no objects built with `new` at module level (a Map or Set there is one for all workflows).',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
);
