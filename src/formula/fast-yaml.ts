// The fast path of formula parsing. Line and column are only needed when something is wrong, so a
// formula is first read with js-yaml (no position-keeping document, several times faster) and only
// a formula that is invalid, or that uses a YAML feature where the two parsers could read it
// differently, pays for `yaml`'s parse with positions (parse.ts). Both read YAML 1.2's core schema
// (`yes`/`no` are strings, `0755` is decimal, `<<` is a plain key, duplicate keys are an error);
// test/formula/fast-path.test.ts proves they agree on the corpus and the edge cases.
import { COLLECTION_STYLE, CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, constructFromEvents, getScalarValue, parseEvents, strTag, type Event } from 'js-yaml';

/**
 * The document's data, or undefined when the slow path must decide: js-yaml rejected the text, or it
 * uses directives, tags, anchors, aliases, several documents, a mapping key that is not a string
 * (`~: x` is key "null" to one and "" to the other), or a flow collection spread over lines (where
 * `yaml` warns about indentation and js-yaml is silent).
 */
export function fastLoad(text: string): { data: unknown } | undefined {
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined;
  }
  let documents = 0;
  // Open collections; for a mapping, whether its next node is a key.
  const open: Array<{ mapping: boolean; keyNext: boolean }> = [];
  for (const event of events) {
    if (event.type === EVENT_ID.POP) {
      open.pop();
      continue;
    }
    if (event.type === EVENT_ID.DOCUMENT) {
      documents++;
      if (event.directives.length > 0) return undefined;
      open.push({ mapping: false, keyNext: false });
      continue;
    }
    if (event.type === EVENT_ID.ALIAS || event.anchorStart >= 0 || event.tagStart >= 0) return undefined;
    const parent = open[open.length - 1];
    const isKey = parent?.mapping === true && parent.keyNext;
    if (parent?.mapping) parent.keyNext = !parent.keyNext;
    if (event.type === EVENT_ID.SCALAR) {
      if (isKey && event.style === SCALAR_STYLE.PLAIN && CORE_SCHEMA.resolveImplicitScalarTag(getScalarValue(text, event)).tag !== strTag) return undefined;
      continue;
    }
    if (isKey) return undefined;
    if (event.style === COLLECTION_STYLE.FLOW && !closesOnItsLine(text, event.start)) return undefined;
    open.push({ mapping: event.type === EVENT_ID.MAPPING, keyNext: true });
  }
  if (documents !== 1) return undefined;
  try {
    return { data: constructFromEvents(events, { source: text, maxAliases: 0 })[0] };
  } catch {
    return undefined;
  }
}

/** True when the flow collection opening at `start` is closed before the end of that line. */
function closesOnItsLine(text: string, start: number): boolean {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '\n' || c === '\r') return false;
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      if (--depth === 0) return true;
    } else if (c === '"') {
      // Skip a double-quoted scalar, escapes included; it must end on this line too.
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\n') return false;
        if (text[i] === '\\') i++;
      }
    } else if (c === "'") {
      for (i++; i < text.length && !(text[i] === "'" && text[i + 1] !== "'"); i++) {
        if (text[i] === '\n') return false;
        if (text[i] === "'") i++;
      }
    } else if (c === '#' && (text[i - 1] === ' ' || text[i - 1] === '\t')) {
      return false;
    }
  }
  return false;
}
