// `taskotron setup`'s options; what it does is setup.ts's, loaded once they have been parsed, so
// `setup --help` and a usage error answer without the Temporal SDK.
import type { Command } from 'commander';
import { addTemporalOptions } from './option-defs.js';

export function registerSetup(program: Command): void {
  addTemporalOptions(
    program
      .command('setup')
      .option('--retention <duration>', 'how long closed jobs are kept, e.g. 30d (temporal.retention; default 30d)'),
  ).action(async (options: { config?: string; address?: string; namespace?: string; retention?: string }) => (await import('./setup.js')).runSetup(options));
}
