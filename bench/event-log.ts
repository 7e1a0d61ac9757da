/**
 * Reading and writing the shared event log as lines (`user<TAB>time<TAB>action`, an optional header, gzip'd), for
 * the bench scripts that write a changed copy of it (held-out-users-split.ts, collapse-repeats.ts): each line is kept
 * whole, so what they write back is the input's own text.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, gzipSync } from 'node:zlib';

/** One event: its line as read, and its position among the file's events (file order). */
export interface EventRow {
  line: string;
  user: string;
  time: number;
  order: number;
  action: string;
}

/** The header ('' without one) and each user's rows in file order, users in order of first appearance. */
export async function readEventLog(file: string): Promise<{ header: string; rowsOf: Map<string, EventRow[]> }> {
  const rowsOf = new Map<string, EventRow[]>();
  let header = '';
  let order = 0;
  let lineNumber = 0;
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    const [user, timeText, action] = line.split('\t');
    const time = Number(timeText);
    if (order === 0 && header === '' && !Number.isFinite(time)) {
      header = line;
      continue;
    }
    if (!Number.isFinite(time) || action === undefined)
      throw new Error(`${file}: line ${lineNumber} is not user<TAB>time<TAB>action with the time in Unix seconds`);
    let rows = rowsOf.get(user);
    if (!rows) rowsOf.set(user, (rows = []));
    rows.push({ line, user, time, order: order++, action });
  }
  return { header, rowsOf };
}

/** A user's rows in the order the events reader gives them: by time, ties in file order (a sorted copy). */
export function inTimeOrder(rows: readonly EventRow[]): EventRow[] {
  return [...rows].sort((a, b) => a.time - b.time || a.order - b.order);
}

/** Writes `rows` (in the order given) under `header` (the standard one when '') as a gzip'd event log. */
export function writeEventLog(path: string, header: string, rows: readonly EventRow[]): void {
  const text = `${header === '' ? 'user\ttime\taction' : header}\n${rows.map((row) => row.line).join('\n')}\n`;
  writeFileSync(path, gzipSync(text));
}
