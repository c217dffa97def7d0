// Placing untrusted values into `shell` command strings. A value always becomes exactly one shell
// word in POSIX single quotes. Quotes alone are not enough: inside the author's "..." the value
// must first close the double quote, after a backslash or inside backticks a quote is itself
// escaped, and so on. So the author's text is lexed to know the shell's quoting state at each
// reference; where that state cannot be tracked with certainty, the reference is refused rather
// than guessed. Pure: imports only template.ts types.
import type { ReferencePart, TemplatePart } from './template.js';

/** POSIX single-quote quoting: the result is one shell word and nothing in it is special. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A reference placed where its value could not be guaranteed to stay one shell word. */
export class ShellPlacementError extends Error {
  override readonly name = 'ShellPlacementError';
  constructor(
    readonly reference: ReferencePart,
    readonly reason: string,
  ) {
    super(`variable '${reference.source}' cannot be used ${reason} in a shell command: its value might not stay one word`);
  }
}

type FrameKind = 'unquoted' | 'command' | 'single' | 'double' | 'ansi' | 'param' | 'arith' | 'comment';
interface Frame {
  kind: FrameKind;
  /** Open parentheses inside a `$(`/`$((` frame. */
  depth: number;
}

const WHERE: Record<FrameKind, string> = {
  unquoted: '',
  command: '',
  single: '',
  double: '',
  ansi: "inside $'...'",
  param: 'inside a shell ${...} expansion',
  arith: 'inside $((...))',
  comment: 'inside a shell comment',
};
// eslint-disable-next-line no-restricted-syntax -- a lookup table, only read
const SEPARATORS = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);

/**
 * Renders a parsed shell command string, quoting every referenced value as one word.
 * Throws ShellPlacementError for a reference in a place where that cannot be guaranteed.
 */
export function renderShellTemplate(parts: readonly TemplatePart[], valueOf: (ref: ReferencePart) => string): string {
  const stack: Frame[] = [{ kind: 'unquoted', depth: 0 }];
  const top = (): Frame => stack[stack.length - 1] ?? { kind: 'unquoted', depth: 0 };
  let escaped = false;
  let afterDollar = false;
  let wordStart = true;
  let blockedBy: string | undefined;
  let out = '';

  const place = (ref: ReferencePart): void => {
    const frame = top();
    if (blockedBy) throw new ShellPlacementError(ref, `after ${blockedBy}`);
    if (escaped) throw new ShellPlacementError(ref, "right after a '\\'");
    if (afterDollar && frame.kind !== 'single') throw new ShellPlacementError(ref, "right after a literal '$'");
    const word = shellQuote(valueOf(ref));
    switch (frame.kind) {
      case 'unquoted':
      case 'command':
        out += word;
        break;
      case 'double':
        out += `"${word}"`;
        break;
      case 'single':
        out += `'${word}'`;
        break;
      default:
        throw new ShellPlacementError(ref, WHERE[frame.kind]);
    }
    wordStart = false;
    afterDollar = false;
  };

  // Reacts to a `$` in unquoted or double-quoted text; returns how many extra characters it consumed.
  const dollar = (text: string, i: number): number => {
    const next = text[i + 1];
    if (next === undefined) {
      afterDollar = true;
      return 0;
    }
    if (next === '(' && text[i + 2] === '(') {
      stack.push({ kind: 'arith', depth: 2 });
      return 2;
    }
    if (next === '(') {
      stack.push({ kind: 'command', depth: 0 });
      wordStart = true;
      return 1;
    }
    if (next === '{') {
      stack.push({ kind: 'param', depth: 0 });
      return 1;
    }
    if (next === "'" && top().kind !== 'double') {
      stack.push({ kind: 'ansi', depth: 0 });
      return 1;
    }
    return 0;
  };

  const lex = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charAt(i);
      const frame = top();
      afterDollar = false;
      if (escaped) {
        escaped = false;
        wordStart = false;
        continue;
      }
      switch (frame.kind) {
        case 'single':
          if (c === "'") stack.pop();
          break;
        case 'ansi':
          if (c === '\\') escaped = true;
          else if (c === "'") stack.pop();
          break;
        case 'comment':
          if (c === '\n') {
            stack.pop();
            wordStart = true;
          }
          break;
        case 'param':
          if (c === '}') stack.pop();
          else if ("'\"`\\$".includes(c)) blockedBy = `'${c}' inside a shell \${...} expansion`;
          break;
        case 'arith':
          if (c === '(') frame.depth++;
          else if (c === ')' && --frame.depth === 0) stack.pop();
          else if ("'\"`\\".includes(c)) blockedBy = `'${c}' inside $((...))`;
          break;
        case 'double':
          if (c === '\\') escaped = true;
          else if (c === '"') stack.pop();
          else if (c === '`') blockedBy = 'a backtick (use $(...) instead)';
          else if (c === '$') i += dollar(text, i);
          break;
        case 'unquoted':
        case 'command': {
          const startsWord = wordStart;
          wordStart = SEPARATORS.has(c);
          if (c === '\\') escaped = true;
          else if (c === "'") stack.push({ kind: 'single', depth: 0 });
          else if (c === '"') stack.push({ kind: 'double', depth: 0 });
          else if (c === '`') blockedBy = 'a backtick (use $(...) instead)';
          else if (c === '$') i += dollar(text, i);
          else if (c === '#' && startsWord) stack.push({ kind: 'comment', depth: 0 });
          else if (c === '<' && text[i + 1] === '<') blockedBy = 'a here-document (<<)';
          else if (frame.kind === 'command') {
            if (c === '(') frame.depth++;
            else if (c === ')' && frame.depth-- === 0) stack.pop();
            else if (startsWord && /^case(?:\s|$)/.test(text.slice(i, i + 5))) blockedBy = "'case' inside $(...)";
          }
          break;
        }
      }
    }
  };

  for (const part of parts) {
    if (part.kind === 'text') {
      out += part.text;
      lex(part.text);
    } else {
      place(part);
    }
  }
  return out;
}
