// What the validator reports. Pure: no imports.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dot-path of the offending key in the file, e.g. `actions[2].koji.action`; '' for the file. */
  path: string;
  message: string;
}

/** `file:line:col: error: path: message`, the way compilers print it. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
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
