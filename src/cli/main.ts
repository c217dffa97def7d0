#!/usr/bin/env node
// The `taskotron` command (its subcommands: program.ts).
// First: heap settings must be in place before any other module allocates.
import './heap.js';
import { ConfigError } from '../config/load.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { buildProgram } from './program.js';

try {
  await (await buildProgram(process.argv)).parseAsync(process.argv);
} catch (error) {
  // A bad configuration is the operator's to fix: every problem, where it is, and no stack trace.
  if (!(error instanceof ConfigError)) throw error;
  for (const d of error.diagnostics) console.error(formatDiagnostic(d));
  process.exitCode = 2;
}
