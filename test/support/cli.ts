// How tests start taskotron's CLI as a process. Under `npm test` the harness makes sure dist/ is
// compiled from the current src/ and sets TASKOTRON_TEST_CLI=dist: each process then loads the
// compiled CLI, as `npm start` and the packaged `taskotron` do, and spends about half the CPU of the
// same process under tsx (whose loader hooks see each of ~1,000 modules). Run any other way (a file
// given to `node --test` or tsx directly), dist/ may be stale, so the CLI runs from src/ under tsx.
// The arguments are for `process.execPath` with the project root as the working directory; they
// begin with the harness's V8 flags (TASKOTRON_TEST_NODE_FLAGS).
import { join } from 'node:path';
import { projectRoot } from '../../src/devserver/project.js';

/** Node's arguments that run `src/cli/<entry>.ts` (or its compiled dist/ copy), before the CLI's own. */
export function cliArgs(entry: 'main' | 'runtask' = 'main'): string[] {
  // The harness's V8 flags for its processes (scripts/test.ts: `--no-opt`, as the test files run).
  const flags = (process.env.TASKOTRON_TEST_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  if (process.env.TASKOTRON_TEST_CLI === 'dist') return [...flags, join(projectRoot(), 'dist', 'src', 'cli', `${entry}.js`)];
  return [...flags, '--import', 'tsx', `src/cli/${entry}.ts`];
}
