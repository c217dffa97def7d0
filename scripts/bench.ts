// `npm run bench`: runs every bench/*.bench.ts (or the ones named) one after another, each in its own
// process so one benchmark's warm-up or garbage does not colour the next. Figures go to stdout; record
// them in docs/PERFORMANCE.md with the date and machine.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/devserver/project.js';

const root = projectRoot();
const named = process.argv.slice(2);
const files = named.length > 0 ? named : readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).sort().map((f) => join('bench', f));
let failed = 0;
for (const file of files) {
  console.log(`\n## ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
