// Small questions about files that more than one part of the runner asks.
import { accessSync, constants, statSync } from 'node:fs';

/** A regular file this process may execute (a directory with the x bit is not one). */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
