#!/usr/bin/env node
// The `taskotron` command (its subcommands: program.ts).
// First: heap settings must be in place before any other module allocates.
import './heap.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { buildProgram } from './program.js';

try {
  await (await buildProgram(process.argv)).parseAsync(process.argv);
} catch (error) {
  // A bad configuration is the operator's to fix: every problem, where it is, and no stack trace.
  // Loaded here, not above: the loader (zod, yaml) is 0.2 s of CPU that `--help` and the commands
  // that read no configuration need not pay, and a ConfigError means it is loaded already.
  const { ConfigError } = await import('../config/load.js');
  if (!(error instanceof ConfigError)) throw error;
  for (const d of error.diagnostics) console.error(formatDiagnostic(d));
  process.exitCode = 2;
}
