// The real data files in ../shared/corpus (beside the checkout, read-only in CI), located one way.
import { join } from 'node:path';
import { projectRoot } from '../../src/devserver/project.js';

export const corpusDir = join(projectRoot(), '..', 'shared', 'corpus');

/** Path of a corpus file or folder, e.g. corpusPath('tasks', 'csmock.yml'). */
export function corpusPath(...parts: string[]): string {
  return join(corpusDir, ...parts);
}
