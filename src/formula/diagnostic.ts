// What the validator reports. Pure: no imports.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  file: string;
  /** 1-based; 0 when the value came from no text file (environment variable, command-line option). */
  line: number;
  /** 1-based. */
  column: number;
  /** Dot-path of the offending key in the file, e.g. `actions[2].koji.action`; '' for the file. */
  path: string;
  message: string;
}

/**
 * `file:line:col: error: path: message`, the way compilers print it. Line 0 means the value did not
 * come from a text file (an environment variable, a command-line option): `file` names it alone.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  return `${where}: ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
}

/** `['actions', 2, 'koji', 'action']` → `actions[2].koji.action`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      out += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${out ? '.' : ''}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}
