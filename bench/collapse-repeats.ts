/**
 * The event log with every immediate repeat removed: a row whose action equals the same user's previous action (in
 * time order, ties in file order, as the events reader orders a user's rows) is dropped, so a run of one action
 * becomes one event. Used to ask whether a result on the log comes from its repeats (bench/RESULTS.md, lookahead
 * over ten seeds): on the shared event log a third of the events repeat the action just before them.
 *
 *   npx tsx bench/collapse-repeats.ts <events.tsv.gz> <output.tsv.gz>
 *
 * The output keeps the header and the surviving rows in the input's order, gzip'd.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, gzipSync } from 'node:zlib';

interface Row {
  user: string;
  time: number;
  order: number;
  action: string;
  line: string;
}

export async function collapseRepeats(
  eventsFile: string,
  outputFile: string,
): Promise<{ events: number; kept: number; users: number }> {
  const rows: Row[] = [];
  let header = '';
  const lines = createInterface({ input: createReadStream(eventsFile).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const [user, timeText, action] = line.split('\t');
    const time = Number(timeText);
    if (rows.length === 0 && header === '' && !Number.isFinite(time)) {
      header = line;
      continue;
    }
    if (!Number.isFinite(time) || action === undefined)
      throw new Error(
        `${eventsFile}: line ${rows.length + 2} is not user<TAB>time<TAB>action with the time in seconds`,
      );
    rows.push({ user, time, order: rows.length, action, line });
  }
  // each user's rows in time order (ties in file order); a row is kept unless it repeats the one before it
  const byUser = new Map<string, Row[]>();
  for (const row of rows) {
    let list = byUser.get(row.user);
    if (!list) byUser.set(row.user, (list = []));
    list.push(row);
  }
  const kept = new Uint8Array(rows.length);
  for (const list of byUser.values()) {
    list.sort((a, b) => a.time - b.time || a.order - b.order);
    list.forEach((row, i) => {
      if (i === 0 || list[i - 1].action !== row.action) kept[row.order] = 1;
    });
  }
  const out = rows.filter((row) => kept[row.order] === 1).map((row) => row.line);
  writeFileSync(outputFile, gzipSync([...(header ? [header] : []), ...out].join('\n') + '\n'));
  return { events: rows.length, kept: out.length, users: byUser.size };
}

// the command (no top-level await: the test runner loads this file as CommonJS)
if (process.argv[1]?.endsWith('collapse-repeats.ts')) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: npx tsx bench/collapse-repeats.ts <events.tsv.gz> <output.tsv.gz>');
    process.exit(2);
  }
  collapseRepeats(input, output).then(
    (summary) =>
      console.log(
        `${summary.kept} of ${summary.events} events kept (${summary.events - summary.kept} immediate repeats ` +
          `removed), ${summary.users} users, written to ${output}`,
      ),
    (error: unknown) => {
      console.error(`collapse-repeats: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
