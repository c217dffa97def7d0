// Small questions about files that more than one part of the runner asks.
import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** A regular file this process may execute (a directory with the x bit is not one). */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Puts a directory built at `staging` in place at `target`, where other processes may be putting
 * their own copy at the same moment (first runs of the CLI, test files building one tool): a target
 * that `complete` rejects (an older version, half a copy) is replaced, a complete one another process
 * put there first is kept and `staging` removed. Throws only when no complete target is left.
 */
export function moveIntoPlace(staging: string, target: string, complete: () => boolean): void {
  try {
    if (complete()) return;
    rmSync(target, { recursive: true, force: true });
    mkdirSync(dirname(target), { recursive: true });
    try {
      renameSync(staging, target);
    } catch (error) {
      if (!complete()) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
