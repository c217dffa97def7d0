// runtask.yml text → validated, normalised Formula, with every problem reported at once.
import { LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from './diagnostic.js';
import { SourceMap } from './locate.js';
import { issueDiagnostics, issueMessages } from './issues.js';
import { DIRECTIVE_NAMES, type Action, type DirectiveName, type Formula, type InputArgName } from './model.js';
import { DEPRECATED_DIRECTIVES, FormulaFileSchema } from './schema.js';
import { FormulaRules } from './rules.js';

export interface FormulaParseResult {
  /** Present only when there are no errors. */
  formula?: Formula;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Parses and validates a formula; `file` is only used to label diagnostics. */
export function parseFormula(text: string, file: string): FormulaParseResult {
  const lines = new LineCounter();
  // logLevel 'error': YAML warnings become diagnostics, not process warnings on stderr.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const map = new SourceMap(doc, lines);
  const yamlDiagnostic = (severity: Diagnostic['severity'], e: { pos: [number, number]; message: string }): Diagnostic => ({
    severity,
    file,
    ...map.at(e.pos[0]),
    path: '',
    message: `YAML: ${e.message}`,
  });
  const warnings = doc.warnings.map((w) => yamlDiagnostic('warning', w));
  if (doc.errors.length > 0) return done(doc.errors.map((e) => yamlDiagnostic('error', e)), warnings);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return done([{ severity: 'error', file, line: 1, column: 1, path: '', message: `YAML: ${(e as Error).message}` }], warnings);
  }
  if (data === null || data === undefined) {
    const message = 'the file is empty: expected a mapping with name, desc, maintainer, input and actions';
    return done([{ severity: 'error', file, line: 1, column: 1, path: '', message }], warnings);
  }

  const parsed = FormulaFileSchema.safeParse(data, { error: issueMessages, reportInput: true });
  const diagnostics = parsed.success
    ? []
    : issueDiagnostics(parsed.error.issues, { file, map, data, schema: FormulaFileSchema });
  if (typeof data === 'object' && !Array.isArray(data)) {
    diagnostics.push(...new FormulaRules(file, map, data as Record<string, unknown>).check());
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  warnings.push(...diagnostics.filter((d) => d.severity === 'warning'));
  if (errors.length > 0 || !parsed.success) return done(errors, warnings);
  return { formula: normalise(parsed.data), errors: [], warnings: sorted(warnings) };
}

function done(errors: Diagnostic[], warnings: Diagnostic[]): FormulaParseResult {
  return { errors: sorted(errors), warnings: sorted(warnings) };
}

function sorted(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
}

type FormulaFileData = ReturnType<typeof FormulaFileSchema.parse>;
type ActionData = NonNullable<FormulaFileData['actions']>[number];

function normalise(file: FormulaFileData): Formula {
  const formula: Formula = {
    name: file.name,
    desc: file.desc,
    maintainer: file.maintainer,
    ...(file.namespace !== undefined && { namespace: file.namespace }),
    input: { args: [...file.input.args] as InputArgName[] },
    ...(file.environment && { environment: file.environment.rpm ? { rpm: [...file.environment.rpm] } : {} }),
    ...(file.timeout !== undefined && { timeout: file.timeout }),
    actions: (file.actions ?? file.task ?? []).map(normaliseAction),
  };
  return formula;
}

function normaliseAction(action: ActionData): Action {
  const record = action as Record<string, unknown>;
  const key = [...DIRECTIVE_NAMES, ...Object.keys(DEPRECATED_DIRECTIVES)].find((k) => record[k] !== undefined) ?? 'dummy';
  const directive = (DEPRECATED_DIRECTIVES[key] ?? key) as DirectiveName;
  return {
    name: action.name,
    directive,
    params: record[key],
    ...(action.export !== undefined && { export: action.export }),
    ...(action.timeout !== undefined && { timeout: action.timeout }),
    ...(action.retry && {
      retry: {
        attempts: action.retry.attempts,
        backoff: action.retry.backoff ?? '10s',
        ...(action.retry.max_backoff !== undefined && { maxBackoff: action.retry.max_backoff }),
      },
    }),
  };
}
