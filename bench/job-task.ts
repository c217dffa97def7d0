// The task the job benches run: `actions` copies of one directive in a local task directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `<scratch>/<name>/runtask.yml` with `actions` actions of `directive` (YAML under the action's name); returns the directory. */
export function writeBenchTask(scratch: string, name: string, directive: string, actions: number): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const steps = Array.from({ length: actions }, (_, i) => `  - name: step ${i + 1}\n    ${directive}\n`).join('');
  writeFileSync(join(dir, 'runtask.yml'), `name: ${name}\ndesc: ${actions} actions\nmaintainer: bench\ninput:\n  args: [koji_build]\nactions:\n${steps}`);
  return dir;
}
