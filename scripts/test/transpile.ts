// The test files as plain JavaScript, so `npm test` runs them without tsx. tsx's loader hooks see
// every module a test file loads (the Temporal SDK alone is several hundred) and cost each test-file
// process 0.2–0.6 s of CPU over the same process running JavaScript; with 75 files on 2 cores that is
// some 30 s of CPU per run. esbuild (what tsx itself uses) strips the types of src/ and test/ file by
// file, without bundling or type checking, into a directory of the run's own inside the checkout
// (bare imports such as '@temporalio/client' must still find node_modules/). Every reference to
// import.meta is replaced with the source file's own values, so a test that finds a fixture, a
// Python script or a workflows.ts beside itself finds it in the source tree, and the inline source
// maps make stack traces name the .ts file and line.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import { processAlive } from '../../test/support/processes.js';

const SOURCE_DIRS = ['src', 'test', join('scripts', 'test')];

/** Where one run's JavaScript goes; `.cache/test-build/<pid>`, removed by the run that made it. */
export function buildDir(root: string, pid = process.pid): string {
  return join(root, '.cache', 'test-build', String(pid));
}

/** The compiled path of a source file (absolute) in a build directory. */
export function compiledPath(root: string, build: string, source: string): string {
  return join(build, relative(root, source)).replace(/\.ts$/, '.js');
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.includes('/node_modules/'));
}

/** Transpiles src/, test/ and scripts/test/ into `build`; rejects naming the file esbuild could not read. */
export async function transpileForTests(root: string, build: string): Promise<number> {
  // Builds of runs that were killed before they could remove theirs.
  const parent = dirname(build);
  if (existsSync(parent)) {
    for (const name of readdirSync(parent)) if (/^\d+$/.test(name) && !processAlive(Number(name))) rmSync(join(parent, name), { recursive: true, force: true });
  }
  rmSync(build, { recursive: true, force: true });
  const sources = SOURCE_DIRS.flatMap((dir) => tsFiles(join(root, dir)));
  await Promise.all(
    sources.map(async (source) => {
      const url = pathToFileURL(source).href;
      const { code } = await transform(readFileSync(source, 'utf8'), {
        loader: 'ts',
        format: 'esm',
        target: 'node20',
        // The compiler options that change emitted JavaScript (tsconfig.json targets ES2022: class
        // fields are defined, as tsc and tsx emit them).
        tsconfigRaw: { compilerOptions: { target: 'ES2022', useDefineForClassFields: true } },
        sourcefile: source,
        sourcemap: 'inline',
        sourcesContent: false,
        define: {
          'import.meta.url': JSON.stringify(url),
          'import.meta.filename': JSON.stringify(source),
          'import.meta.dirname': JSON.stringify(dirname(source)),
        },
      });
      const output = compiledPath(root, build, source);
      mkdirSync(dirname(output), { recursive: true });
      writeFileSync(output, code);
    }),
  );
  return sources.length;
}
