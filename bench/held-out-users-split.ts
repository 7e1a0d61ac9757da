/**
 * The held-out-users split of issue 13 (and 12), built from the shared event log: users in order of first
 * appearance in the file; every 10th user (index % 10 == 9) goes to the test file, cut to their first 2,000
 * actions (in time order) whose action occurs in some training user's history; every other user is written to
 * the training file whole. Both files are event logs (`user<TAB>time<TAB>action`, with the header), gzip'd,
 * lines in the input file's order, so `lla train train.tsv.gz --test test.tsv.gz` reads the same sequences.
 *
 *   npx tsx bench/held-out-users-split.ts <events.tsv.gz> <output folder>
 *
 * Used by bench/repeat-aware.ts, which writes into a temporary folder (never into the repository).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inTimeOrder, readEventLog, writeEventLog, type EventRow } from './event-log.js';

/** Every TEST_EVERY-th user (0-based index % TEST_EVERY == TEST_EVERY - 1) is a test user. */
export const TEST_EVERY = 10;
/** A test user keeps at most this many of their in-vocabulary actions. */
export const TEST_ACTIONS = 2000;

export interface SplitSummary {
  trainFile: string;
  testFile: string;
  trainUsers: number;
  trainActions: number;
  testUsers: number;
  testActions: number;
  /** distinct actions of the training users */
  trainVocabulary: number;
}

export async function buildHeldOutUsersSplit(eventsFile: string, folder: string): Promise<SplitSummary> {
  // rowsOf: every user's rows in file order; users: in order of first appearance
  const { header, rowsOf } = await readEventLog(eventsFile);
  const users = [...rowsOf.keys()];
  const isTest = (index: number) => index % TEST_EVERY === TEST_EVERY - 1;
  const vocabulary = new Set<string>();
  users.forEach((user, index) => {
    if (!isTest(index)) for (const row of rowsOf.get(user)!) vocabulary.add(row.action);
  });
  const trainLines: EventRow[] = [];
  const testLines: EventRow[] = [];
  let trainUsers = 0;
  let testUsers = 0;
  users.forEach((user, index) => {
    const rows = rowsOf.get(user)!;
    if (!isTest(index)) {
      trainUsers++;
      trainLines.push(...rows);
      return;
    }
    // the reader sorts a user's actions by time, stable in file order: cut in that order
    const kept = inTimeOrder(rows)
      .filter((row) => vocabulary.has(row.action))
      .slice(0, TEST_ACTIONS);
    if (kept.length === 0) return;
    testUsers++;
    testLines.push(...kept.sort((a, b) => a.order - b.order));
  });
  trainLines.sort((a, b) => a.order - b.order);
  mkdirSync(folder, { recursive: true });
  const write = (name: string, rows: EventRow[]) => {
    const path = join(folder, name);
    writeEventLog(path, header, rows);
    return path;
  };
  return {
    trainFile: write('train.tsv.gz', trainLines),
    testFile: write('test.tsv.gz', testLines),
    trainUsers,
    trainActions: trainLines.length,
    testUsers,
    testActions: testLines.length,
    trainVocabulary: vocabulary.size,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [eventsFile, folder] = process.argv.slice(2);
  if (!eventsFile || !folder) {
    console.error('usage: npx tsx bench/held-out-users-split.ts <events.tsv.gz> <output folder>');
    process.exit(2);
  }
  console.log(JSON.stringify(await buildHeldOutUsersSplit(eventsFile, folder)));
}
