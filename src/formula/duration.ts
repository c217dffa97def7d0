// Durations in a formula (our `timeout` and `retry` extensions) are written with a unit, always:
// `90s`, `30m`, `2h`, `1h30m`. A bare number is rejected so nobody wonders whether it means
// seconds or milliseconds. Pure: no imports.

/** A duration string such as `90s`, `30m`, `2h` or `1h30m`. */
export type Duration = string;

/** Source of the regular expression a duration must match (shared with the JSON Schema). */
export const DURATION_PATTERN = '^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$';
// eslint-disable-next-line no-restricted-syntax -- shared by every workflow of a worker, and stateless: no g or y flag
const durationRe = new RegExp(DURATION_PATTERN);

/** Seconds in a duration, or undefined when the text is not a duration (or is zero). */
export function parseDuration(text: string): number | undefined {
  const m = durationRe.exec(text);
  if (!m || text === '') return undefined;
  const [, h = '0', min = '0', s = '0'] = m;
  const seconds = Number(h) * 3600 + Number(min) * 60 + Number(s);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** Seconds in a validated duration; throws RangeError for anything else. */
export function durationSeconds(duration: Duration): number {
  const seconds = parseDuration(duration);
  if (seconds === undefined) {
    throw new RangeError(`not a duration: '${duration}' (expected e.g. 90s, 30m, 2h or 1h30m)`);
  }
  return seconds;
}
