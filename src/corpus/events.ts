/**
 * `events` format: a TSV event log `user<TAB>time<TAB>action` (header optional: see isTimeColumnName), grouped by user into one
 * sequence per user (in order of the user's first appearance), each sorted by time, stable for equal times
 * (file order). With a session gap, a user's actions split into several sequences at gaps longer than it.
 *
 * Per event only three numbers are kept (user id, time, action id) in growable typed arrays: 400k events load
 * without 400k JS objects.
 */
import { InputError } from '../errors.js';
import { GrowableFloat64, GrowableInt32 } from './growable.js';
import { Interner } from './interner.js';
import { forEachLine, type LineReaderOptions } from './lines.js';
import { parseTime } from './time.js';
import { checkNotEmpty } from './builder.js';
import type { RawDocuments } from './types.js';

export interface EventsOptions extends LineReaderOptions {
  /** seconds; a gap strictly longer than this starts a new sequence */
  sessionGap?: number;
}

const ROW = 'expected user<TAB>time<TAB>action with time in Unix seconds or ISO 8601';

export async function readEvents(path: string, options: EventsOptions = {}): Promise<RawDocuments> {
  const users = new Interner();
  const actions = new Interner();
  // eventUser / eventTime / eventAction: [N] one entry per event, in file order
  const eventUser = new GrowableInt32(1 << 16);
  const eventTime = new GrowableFloat64(1 << 16);
  const eventAction = new GrowableInt32(1 << 16);
  let seenRow = false;

  const { lines } = await forEachLine(
    path,
    (line, lineNumber) => {
      if (line.trim() === '') return;
      const firstTab = line.indexOf('\t');
      const secondTab = firstTab === -1 ? -1 : line.indexOf('\t', firstTab + 1);
      if (secondTab === -1 || line.indexOf('\t', secondTab + 1) !== -1) {
        const fields = line.split('\t').length;
        throw new InputError(
          `${fields} tab-separated field${fields === 1 ? '' : 's'}, ${ROW}` +
            (fields === 1 ? ' (is this a text corpus? then pass --format text)' : ''),
          path,
          lineNumber,
        );
      }
      const user = line.slice(0, firstTab);
      const timeText = line.slice(firstTab + 1, secondTab);
      const action = line.slice(secondTab + 1);
      const time = parseTime(timeText);
      if (Number.isNaN(time)) {
        const first = !seenRow;
        seenRow = true;
        if (first && isTimeColumnName(timeText)) return;
        throw new InputError(
          `unreadable time '${timeText}', ${ROW}` +
            (first
              ? ` (the first row is skipped as a header only when its time column is named, e.g. 'time', 'timestamp' or 'date')`
              : ''),
          path,
          lineNumber,
        );
      }
      seenRow = true;
      if (user === '' || action === '') {
        throw new InputError(`empty ${user === '' ? 'user' : 'action'} field, ${ROW}`, path, lineNumber);
      }
      eventUser.push(users.intern(user));
      eventTime.push(time);
      eventAction.push(actions.intern(action));
    },
    options,
  );

  const raw = groupEvents(eventUser.view(), eventTime.view(), eventAction.view(), users.strings, options.sessionGap);
  return checkNotEmpty({
    file: path,
    format: 'events',
    lines,
    tokenStrings: actions.strings,
    users: users.size,
    ...raw,
  });
}

/**
 * The header rule: the first row is a header when its time field is not a time but the name of a time column:
 * a word (letters, digits, '_', '-', '.', spaces) containing 'time', 'date' or 'stamp', or exactly 'ts', 't',
 * 'when' or 'at', in any case ('time', 'Timestamp', 'event_time', 'date', 'ts'). Any other unreadable time is an
 * error on line 1 as on every other line: a row of data whose time is damaged is never dropped silently.
 */
export function isTimeColumnName(field: string): boolean {
  const name = field.trim().toLowerCase();
  return (
    /^[\p{L}\p{N}_.\- ]+$/u.test(name) && (/time|date|stamp/.test(name) || ['ts', 't', 'when', 'at'].includes(name))
  );
}

/**
 * Groups events by user (users in order of first appearance), sorts each user's events by time keeping file
 * order for equal times, and cuts sessions at gaps > sessionGap.
 */
export function groupEvents(
  eventUser: Int32Array,
  eventTime: Float64Array,
  eventAction: Int32Array,
  userNames: string[],
  sessionGap?: number,
): { offsets: Int32Array; tokens: Int32Array; ids: string[] } {
  const eventCount = eventUser.length;
  const userCount = userNames.length;
  // userStart: [U+1] start of each user's events in `order` (counting sort keeps file order within a user)
  const userStart = new Int32Array(userCount + 1);
  for (let event = 0; event < eventCount; event += 1) userStart[eventUser[event] + 1] += 1;
  for (let user = 0; user < userCount; user += 1) userStart[user + 1] += userStart[user];
  // order: [N] event indices grouped by user
  const order = new Int32Array(eventCount);
  const fill = userStart.slice(0, userCount);
  for (let event = 0; event < eventCount; event += 1) order[fill[eventUser[event]]++] = event;

  const byTimeThenFileOrder = (a: number, b: number) => eventTime[a] - eventTime[b] || a - b;
  for (let user = 0; user < userCount; user += 1) {
    const start = userStart[user];
    const end = userStart[user + 1];
    let sorted = true;
    for (let at = start + 1; at < end && sorted; at += 1) sorted = eventTime[order[at - 1]] <= eventTime[order[at]];
    if (!sorted) order.subarray(start, end).sort(byTimeThenFileOrder);
  }

  const tokens = new Int32Array(eventCount);
  for (let at = 0; at < eventCount; at += 1) tokens[at] = eventAction[order[at]];
  if (sessionGap === undefined) {
    return { offsets: userStart, tokens, ids: userNames.slice() };
  }
  const offsets = new GrowableInt32(userCount + 1);
  const ids: string[] = [];
  offsets.push(0);
  for (let user = 0; user < userCount; user += 1) {
    let session = 1;
    for (let at = userStart[user] + 1; at < userStart[user + 1]; at += 1) {
      if (eventTime[order[at]] - eventTime[order[at - 1]] > sessionGap) {
        offsets.push(at);
        ids.push(`${userNames[user]}@${session}`);
        session += 1;
      }
    }
    offsets.push(userStart[user + 1]);
    ids.push(`${userNames[user]}@${session}`);
  }
  return { offsets: offsets.view().slice(), tokens, ids };
}
