// `taskotron validate FILE...`: checks files before anything runs them, and says what is wrong
// where. Each kind of file brings its own validator; the first kind that claims a file checks it.
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { formatDiagnostic, type Diagnostic } from '../formula/diagnostic.js';
import { parseFormula } from '../formula/parse.js';
import { isTriggerRulesFileName, loadRules } from '../ingest/rules.js';
import { isConfigFile, validateConfigText } from '../config/load.js';

/** A kind of file `taskotron validate` understands. */
export interface FileKind {
  name: string;
  /** True when a file of this name (and, when read, this text) is of this kind (kinds are asked in order). */
  claims(file: string, text?: string): boolean;
  validate(text: string, file: string): { errors: Diagnostic[]; warnings: Diagnostic[] };
}

/** Known kinds, most specific first; `formula` takes any file, so it stays last. */
export const fileKinds: FileKind[] = [
  { name: 'trigger-rules', claims: isTriggerRulesFileName, validate: (text, file) => loadRules(text, file) },
  { name: 'config', claims: isConfigFile, validate: validateConfigText },
  { name: 'formula', claims: () => true, validate: (text, file) => parseFormula(text, file) },
];

export interface FileReport {
  file: string;
  kind: string;
  valid: boolean;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export interface ValidateOptions {
  json?: boolean;
  /** Check every file as this kind instead of guessing from its name. */
  kind?: string;
}

export async function validateFile(file: string, kindName?: string): Promise<FileReport> {
  let text: string | undefined;
  let unreadable: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    unreadable = `cannot read the file: ${(e as Error).message}`;
  }
  const kind = fileKinds.find((k) => (kindName ? k.name === kindName : k.claims(file, text)));
  if (!kind) throw new Error(`unknown kind of file: ${kindName ?? file}`);
  if (text === undefined) {
    const error: Diagnostic = { severity: 'error', file, line: 1, column: 1, path: '', message: unreadable! };
    return { file, kind: kind.name, valid: false, errors: [error], warnings: [] };
  }
  const { errors, warnings } = kind.validate(text, file);
  return { file, kind: kind.name, valid: errors.length === 0, errors, warnings };
}

/** Validates the files, prints the reports, and returns the exit code (0 all valid, 1 not). */
export async function runValidate(files: string[], options: ValidateOptions, print: (line: string) => void): Promise<number> {
  const reports: FileReport[] = [];
  for (const file of files) reports.push(await validateFile(file, options.kind));
  if (options.json) {
    print(JSON.stringify(reports, null, 2));
  } else {
    for (const r of reports) {
      const diagnostics = [...r.errors, ...r.warnings].sort((a, b) => a.line - b.line || a.column - b.column);
      for (const d of diagnostics) print(formatDiagnostic(d));
      if (r.valid) print(`${r.file}: valid ${r.kind}${r.warnings.length ? ` (${plural(r.warnings.length, 'warning')})` : ''}`);
    }
    if (reports.length > 1) {
      const invalid = reports.filter((r) => !r.valid).length;
      print(`${plural(reports.length, 'file')}: ${reports.length - invalid} valid, ${invalid} invalid`);
    }
  }
  return reports.every((r) => r.valid) ? 0 : 1;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .argument('<files...>', 'files to check')
    .option('--json', 'print a JSON array of {file, kind, valid, errors, warnings}')
    .addOption(new Option('--kind <kind>', 'check every file as this kind').choices(fileKinds.map((k) => k.name)))
    .action(async (files: string[], options: ValidateOptions) => {
      process.exitCode = await runValidate(files, options, (line) => console.log(line));
    });
}
