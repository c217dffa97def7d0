// The regular expressions of trigger rules: Python's `re` syntax in MongoDB's `/pattern/flags` wrapper.

/**
 * Python's `re` → JavaScript RegExp for the syntax rules use: named groups `(?P<n>…)`/`(?P=n)`,
 * `\A`, `\Z`. The `/pattern/flags` wrapper is MongoDB's (mongoquery), flags from `imsx`.
 */
export function compileRuleRegex(text: string): RegExp {
  const m = /^\/([\s\S]*)\/([imsx]*)$/.exec(text);
  if (!m) throw new Error(`expected '/pattern/' (slash-delimited, optional flags imsx), got '${text}'`);
  const [, pattern, flags] = m as unknown as [string, string, string];
  if (flags.includes('x')) throw new Error("the verbose flag 'x' is not supported");
  const js = pattern
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  return new RegExp(js, flags);
}
