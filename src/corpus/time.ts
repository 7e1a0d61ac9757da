/** Event times: Unix seconds (integer or decimal) or ISO 8601, as seconds since 1970 (float64). */

const UNIX_SECONDS = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// date, optional time (with optional seconds and fraction), optional zone; a missing zone means UTC so that a
// file reads the same on every machine.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?$/;

/** seconds since 1970-01-01T00:00:00Z, or NaN when `text` is neither a number nor an ISO 8601 date-time */
export function parseTime(text: string): number {
  const value = text.trim();
  if (UNIX_SECONDS.test(value)) {
    const seconds = Number(value);
    return Number.isFinite(seconds) ? seconds : NaN;
  }
  const match = ISO_8601.exec(value);
  if (!match) return NaN;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction, , sign, zoneHours, zoneMinutes = '0'] =
    match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (mo < 1 || mo > 12 || d < 1 || h > 24 || mi > 59 || s > 60) return NaN;
  if (h === 24 && (mi !== 0 || s !== 0 || (fraction !== undefined && Number(fraction) !== 0))) return NaN;
  const millis = Date.UTC(y, mo - 1, d, 0, 0, 0);
  // Date.UTC rolls 2023-02-30 over into March: reject days the month does not have.
  if (new Date(millis).getUTCDate() !== d) return NaN;
  let seconds = millis / 1000 + h * 3600 + mi * 60 + s;
  if (fraction !== undefined) seconds += Number(`0.${fraction}`);
  if (sign !== undefined) {
    const zh = Number(zoneHours);
    const zm = Number(zoneMinutes);
    if (zh > 23 || zm > 59) return NaN;
    const offset = zh * 3600 + zm * 60;
    seconds -= sign === '+' ? offset : -offset;
  }
  return seconds;
}
