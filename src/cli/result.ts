// `taskotron result`: for task code (a shell script, say) to append one result to a ResultYAML file,
// with the options of the original `taskotron_result`. The file is validated before and after: an
// invalid existing file is left untouched, an invalid new result is refused, both with reasons.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { OUTCOMES, type Outcome } from '../common/job.js';
import { formatDiagnostic, type Diagnostic } from '../formula/diagnostic.js';
import { RESERVED_KEYS, type KeyvalValue, type ResultEntry } from '../results/model.js';
import { appendToResultYaml, formatResultYaml, parseResultYaml } from '../results/resultyaml.js';

interface ResultOptions {
  file: string;
  item: string;
  report_type?: string;
  type?: string;
  outcome: string;
  note?: string;
  keyval?: string[];
  checkname?: string;
  artifact?: string;
}

const FIELD_OPTION: Record<string, string> = {
  item: '--item',
  type: '--report_type',
  outcome: '--outcome',
  note: '--note',
  checkname: '--checkname',
  artifact: '--artifact',
};

export function registerResult(program: Command): void {
  program
    .command('result')
    .requiredOption('-f, --file <path>', 'the ResultYAML file to append to (created when missing)')
    .requiredOption('-i, --item <item>', "the item that was checked, e.g. 'foo-1.0-1.fc40'")
    .option('-t, --report_type <type>', "the item's type, e.g. koji_build, bodhi_update")
    .addOption(new Option('--type <type>', 'same as --report_type').hideHelp())
    .requiredOption('-o, --outcome <outcome>', `the check's outcome: ${OUTCOMES.join(', ')}`)
    .option('-n, --note <note>', "a few words about the result, e.g. '5 ERRORS, 10 WARNINGS'")
    .option('-k, --keyval <KEY=VALUE>', 'extra data for ResultsDB; repeatable (a KEY given twice becomes a list)', collect)
    .option('-c, --checkname <name>', "the check's name, without the namespace (default: the task's name)")
    .option('-a, --artifact <path>', "this result's log or file, inside the artifacts directory")
    .action(async (options: ResultOptions, command: Command) => {
      const fail = (message: string): never => command.error(`error: ${message}`, { exitCode: 1 });
      const type = options.report_type ?? options.type;
      if (type === undefined) fail("required option '-t, --report_type <type>' not specified");

      const keyvals: Record<string, KeyvalValue> = {};
      for (const pair of options.keyval ?? []) {
        const eq = pair.indexOf('=');
        if (eq <= 0) fail(`--keyval '${pair}': expected KEY=VALUE`);
        const key = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        if ((RESERVED_KEYS as readonly string[]).includes(key)) {
          warn(command, `--keyval '${key}' is a reserved key and is ignored (use --${key === 'type' ? 'report_type' : key})`);
          continue;
        }
        const previous = keyvals[key];
        keyvals[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
      }

      const entry: ResultEntry = {
        item: options.item,
        type: type!,
        outcome: options.outcome as Outcome,
        ...(options.note ? { note: options.note } : {}),
        ...(options.checkname !== undefined ? { checkname: options.checkname } : {}),
        ...(options.artifact !== undefined ? { artifact: options.artifact } : {}),
        keyvals,
      };
      // The new result goes through the very validator the resultsdb directive uses.
      const artifactsDir = process.env.TASKOTRON_ARTIFACTSDIR || undefined;
      const alone = parseResultYaml(formatResultYaml([entry]), { file: '<command line>', ...(artifactsDir ? { artifactsDir } : {}) });
      for (const w of alone.warnings) warn(command, asOption(w));
      if (alone.errors.length > 0) fail(alone.errors.map(asOption).join('\nerror: '));

      let existing = '';
      try {
        existing = await readFile(options.file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') fail(`cannot read ${options.file}: ${(error as Error).message}`);
      }
      const current = parseResultYaml(existing, { file: options.file });
      if (current.errors.length > 0) {
        fail(`${options.file} is not valid ResultYAML, so nothing was appended:\n${current.errors.map(formatDiagnostic).join('\n')}`);
      }
      const temporary = `${options.file}.${process.pid}.tmp`;
      await writeFile(temporary, appendToResultYaml(existing, alone.value!.results));
      await rename(temporary, options.file);
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A diagnostic about the one-result document, told in terms of the option that caused it. */
function asOption(d: Diagnostic): string {
  const field = /^results\[0\]\.?(.*)$/.exec(d.path)?.[1]?.replace(/^\["(.*)"\]$/, '$1').replace(/\[\d+\]$/, '') ?? '';
  const option = FIELD_OPTION[field] ?? (field ? `--keyval ${field}` : '');
  return `${option ? `${option}: ` : ''}${d.message}`;
}

function warn(command: Command, message: string): void {
  command.configureOutput().writeErr?.(`warning: ${message}\n`);
}
