// Temporal workflow code imports substitute.ts (and model.ts, duration.ts). Those must stay free
// of I/O and of heavy libraries: they may import only each other.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './generated.js';

const dir = join(repoRoot, 'src/formula');
const importsOf = (file: string): string[] =>
  [...readFileSync(join(dir, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1] ?? '');

/** Every module reachable from `entry` through imports. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (spec: string): void => {
    if (seen.has(spec)) return;
    seen.add(spec);
    if (spec.startsWith('./')) for (const next of importsOf(spec.replace(/\.js$/, '.ts'))) visit(next);
  };
  visit(`./${entry}`);
  return seen;
}

describe('the modules workflow code imports are pure', () => {
  for (const entry of ['substitute.js', 'model.js', 'duration.js', 'diagnostic.js']) {
    it(`${entry} reaches only other pure formula modules`, () => {
      const reached = [...closure(entry)];
      assert.deepEqual(
        reached.filter((m) => !m.startsWith('./')),
        [],
        `imports outside src/formula: ${reached.join(', ')}`,
      );
      for (const m of reached) assert.ok(!['./parse.js', './schema.js', './locate.js', './issues.js', './rules.js', './suggest.js'].includes(m), m);
    });
  }
});
