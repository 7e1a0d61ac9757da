/**
 * The event log with every immediate repeat removed: a row whose action equals the same user's previous action (in
 * time order, ties in file order, as the events reader orders a user's rows) is dropped, so a run of one action
 * becomes one event. Used to ask whether a result on the log comes from its repeats (bench/RESULTS.md, lookahead
 * over ten seeds): on the shared event log a third of the events repeat the action just before them.
 *
 *   npx tsx bench/collapse-repeats.ts <events.tsv.gz> <output.tsv.gz>
 *
 * The output keeps the header (or writes the standard one) and the surviving rows in the input's order, gzip'd.
 */
import { inTimeOrder, readEventLog, writeEventLog, type EventRow } from './event-log.js';

export async function collapseRepeats(
  eventsFile: string,
  outputFile: string,
): Promise<{ events: number; kept: number; users: number }> {
  const { header, rowsOf } = await readEventLog(eventsFile);
  // each user's rows in time order (ties in file order); a row is kept unless it repeats the one before it
  const kept: EventRow[] = [];
  let events = 0;
  for (const rows of rowsOf.values()) {
    events += rows.length;
    const ordered = inTimeOrder(rows);
    ordered.forEach((row, i) => {
      if (i === 0 || ordered[i - 1].action !== row.action) kept.push(row);
    });
  }
  writeEventLog(
    outputFile,
    header,
    kept.sort((a, b) => a.order - b.order),
  );
  return { events, kept: kept.length, users: rowsOf.size };
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
