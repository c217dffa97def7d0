// Retention: a job's artifacts directory (`<dir>/<uuid>`) is removed once nothing in it has changed
// for the retention period (the original kept 120 days). Age is the newest mtime inside, so a job
// that is still writing is never removed under it.
import { lstatSync, readdirSync, rmSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../formula/duration.js';

/** `120d`, `2w`, or a formula duration (`36h`, `90m`); seconds. Throws naming the setting. */
export function parseRetention(text: string, setting = 'artifacts.retention'): number {
  const match = /^(\d+)([dw])$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (match[2] === 'w' ? 7 : 1) * 86_400 : parseDuration(text.trim());
  if (!seconds) throw new Error(`${setting}: '${text}' is not a duration (e.g. 120d, 2w, 36h)`);
  return seconds;
}

export interface CleanResult {
  removed: string[];
  kept: number;
}

export function cleanArtifacts(dir: string, olderThanSeconds: number, options: { dryRun?: boolean; now?: number } = {}): CleanResult {
  const cutoff = (options.now ?? Date.now()) - olderThanSeconds * 1000;
  const removed: string[] = [];
  let kept = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (newestMtime(path) < cutoff) {
      if (!options.dryRun) rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } else {
      kept += 1;
    }
  }
  return { removed, kept };
}

/** Newest mtime (ms) of a directory and everything beneath it; symlinks are not followed. */
function newestMtime(path: string): number {
  let newest = statSync(path).mtimeMs;
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return newest;
  }
  for (const entry of entries) {
    const child = join(path, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(child) : lstatTime(child));
  }
  return newest;
}

function lstatTime(path: string): number {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  } catch {
    return 0;
  }
}
