// Variable references in formula strings (reference §1.3): Python string.Template syntax,
// `$name` or `${name}`, plus dotted access `${a.b}` (libtaskotron 0.4.12) and `$$` for a literal
// `$`. One tokenizer serves the validator and the substitution, so both agree on every string.
// Pure: no imports.

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const SEGMENT = `(?:${IDENT}|[0-9]+)`;

/** Source of the regular expression for a string that is exactly one variable reference. */
export const VARIABLE_REFERENCE_PATTERN = `^\\$(?:${IDENT}|\\{${IDENT}(?:\\.${SEGMENT})*\\})$`;
/** Source of the regular expression for a variable (export) name. */
export const IDENTIFIER_PATTERN = `^${IDENT}$`;

export interface TextPart {
  kind: 'text';
  /** Literal text, with `$$` already turned into `$`. */
  text: string;
}
export interface ReferencePart {
  kind: 'ref';
  /** The variable's name: `c` in `${c.name}`. */
  name: string;
  /** Dotted access after the name: `['name']` in `${c.name}`. */
  path: string[];
  /** The reference as written: `${c.name}`. */
  source: string;
  /** Offset of the `$` in the string. */
  offset: number;
}
export type TemplatePart = TextPart | ReferencePart;

export interface TemplateSyntaxError {
  offset: number;
  message: string;
}

export type ParsedTemplate = { parts: TemplatePart[]; error?: undefined } | { parts?: undefined; error: TemplateSyntaxError };

// Shared by every workflow of a worker: its lastIndex is set before each exec, in one synchronous call.
// eslint-disable-next-line no-restricted-syntax -- see above
const token = new RegExp(`\\$(?:(\\$)|(${IDENT})|\\{(${IDENT}(?:\\.${SEGMENT})*)\\})`, 'y');

/** Splits a string into literal text and variable references. */
export function parseTemplate(input: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < input.length) {
    const dollar = input.indexOf('$', i);
    if (dollar < 0) {
      text += input.slice(i);
      break;
    }
    text += input.slice(i, dollar);
    token.lastIndex = dollar;
    const m = token.exec(input);
    if (!m) {
      return {
        error: {
          offset: dollar,
          message: `invalid '$' at ${JSON.stringify(input.slice(dollar, dollar + 12))}: write '$$' for a literal '$', or '\${name}' for a variable`,
        },
      };
    }
    if (m[1] !== undefined) {
      text += '$';
    } else {
      if (text) parts.push({ kind: 'text', text });
      text = '';
      const [name = '', ...path] = (m[2] ?? m[3] ?? '').split('.');
      parts.push({ kind: 'ref', name, path, source: m[0], offset: dollar });
    }
    i = token.lastIndex;
  }
  if (text) parts.push({ kind: 'text', text });
  return { parts };
}

/** The reference when the whole string is exactly one reference (its value keeps its type). */
export function soleReference(parsed: ParsedTemplate): ReferencePart | undefined {
  const only = parsed.parts?.length === 1 ? parsed.parts[0] : undefined;
  return only?.kind === 'ref' ? only : undefined;
}

/** True when the string contains a `$` at all: a cheap test before tokenizing. */
export function mayContainReference(input: string): boolean {
  return input.includes('$');
}
