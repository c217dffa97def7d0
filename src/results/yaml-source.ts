// Reading YAML node by node so every problem can name its line, column and dot-path (the formula's
// Diagnostic), and so scalars keep the text the author wrote (`1.0` stays "1.0", not 1).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { formatPath, type Diagnostic, type Severity } from '../formula/diagnostic.js';

export type Path = (string | number)[];

export interface Checked<T> {
  /** Present when there are no errors. */
  value?: T;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export class YamlSource {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(
    text: string,
    readonly file: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const error of this.doc.errors) {
      this.report('error', error.pos[0], [], yamlMessage(error.message));
    }
  }

  /** Line and column of the value at `path` (of the nearest enclosing node when it is missing). */
  locate(path: Path): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let offset = 0;
    for (const segment of path) {
      if (isNodeWithRange(node)) offset = node.range[0];
      node = isSeq(node) && typeof segment === 'number' ? node.items[segment] : isMap(node) ? node.get(segment, true) : undefined;
    }
    if (isNodeWithRange(node)) offset = node.range[0];
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  error(node: Node | null | undefined, path: Path, message: string): void {
    this.report('error', node?.range?.[0] ?? 0, path, message);
  }

  warning(node: Node | null | undefined, path: Path, message: string): void {
    this.report('warning', node?.range?.[0] ?? 0, path, message);
  }

  /** `value` when nothing is wrong; diagnostics in file order either way. */
  result<T>(value: T): Checked<T> {
    const errors = [...this.errors].sort(byPosition);
    const warnings = [...this.warnings].sort(byPosition);
    return errors.length > 0 ? { errors, warnings } : { value, errors, warnings };
  }

  private report(severity: Severity, offset: number, path: Path, message: string): void {
    const { line, col } = this.lines.linePos(offset);
    (severity === 'error' ? this.errors : this.warnings).push({ severity, file: this.file, line, column: col, path: formatPath(path), message });
  }
}

/** The author's text of a scalar (`011`, `1.0`, `yes` stay as written); undefined for null or a collection. */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return node.source ?? String(node.value as string | number | boolean);
}

export function isEmptyValue(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** 'a list', 'a mapping', 'nothing', or the value itself: for "expected X, got Y". */
export function describeNode(node: unknown): string {
  if (isEmptyValue(node)) return 'an empty value';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  const text = scalarText(node) ?? '';
  return `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && 'range' in node && Array.isArray((node as Node).range);
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.line - b.line || a.column - b.column;
}

function yamlMessage(message: string): string {
  // The yaml library's own wording is good; drop its trailing position (we print file:line:col).
  return `invalid YAML: ${message.replace(/ at line \d+, column \d+[\s\S]*$/, '')}`;
}
