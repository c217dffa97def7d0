#!/usr/bin/env node
// The `runtask` command task authors know: `runtask -t koji_build -i foo-1.0-1.fc40 runtask.yml`.
import { Command } from 'commander';
import { addRuntaskOptions, runtask } from './runtask-command.js';

const program = addRuntaskOptions(new Command('runtask').description('run a Taskotron task formula through the job workflow'))
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .action(async (formula: string, options: Parameters<typeof runtask>[1]) => {
    process.exitCode = await runtask(formula, options);
  });
await program.parseAsync(process.argv);
