// Corpus ingestion through the library API: every format, the vocabulary filters, chunking, and bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readDocuments, formatFromName } from '../src/corpus/documents.js';
import { buildVocabulary, Vocabulary } from '../src/corpus/vocabulary.js';
import { toCorpus, loadCorpus } from '../src/corpus/corpus.js';
import { parseTime } from '../src/corpus/time.js';
import { readStopwords } from '../src/corpus/stopwords.js';
import { lengthSummary } from '../src/corpus/stats.js';
import { InputError, UsageError } from '../src/errors.js';
import type { RawDocuments } from '../src/corpus/types.js';

const FIXTURES = 'test/fixtures/corpus';
const scratch = mkdtempSync(join(tmpdir(), 'lla-corpus-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** each sequence of `raw` as its token strings */
function sequences(raw: RawDocuments): string[][] {
  const result: string[][] = [];
  for (let d = 0; d + 1 < raw.offsets.length; d += 1) {
    result.push(Array.from(raw.tokens.subarray(raw.offsets[d], raw.offsets[d + 1]), (id) => raw.tokenStrings[id]));
  }
  return result;
}

function write(name: string, content: string | Buffer): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

/** runs `action`, expects an InputError, returns it */
async function inputError(action: () => Promise<unknown>): Promise<InputError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw new Error(`expected an InputError, got ${(error as Error)?.stack ?? String(error)}`);
  }
  throw new Error('expected an InputError, but the call succeeded');
}

test('format from the file name', () => {
  assert.is(formatFromName('a/b.tsv'), 'events');
  assert.is(formatFromName('a/b.TSV.gz'), 'events');
  assert.is(formatFromName('x.jsonl.gz'), 'jsonl');
  assert.is(formatFromName('x.jsonl'), 'jsonl');
  assert.is(formatFromName('brown.txt.gz'), 'text');
  assert.is(formatFromName('corpus'), 'text');
});

test('time: Unix seconds and ISO 8601 (UTC when no zone)', () => {
  assert.is(parseTime('1609459200'), 1609459200);
  assert.is(parseTime('1609459200.25'), 1609459200.25);
  assert.is(parseTime('1e3'), 1000);
  assert.is(parseTime('2021-01-01T00:00:00Z'), 1609459200);
  assert.is(parseTime('2021-01-01'), 1609459200);
  assert.is(parseTime('2021-01-01 00:00:00'), 1609459200);
  assert.is(parseTime('2021-01-01T01:30:00+01:30'), 1609459200);
  assert.is(parseTime('2020-12-31T19:00:00-0500'), 1609459200);
  assert.is(parseTime('2021-01-01T00:00:00.5Z'), 1609459200.5);
  assert.ok(Number.isNaN(parseTime('2021-02-30')));
  assert.ok(Number.isNaN(parseTime('2021-13-01')));
  assert.ok(Number.isNaN(parseTime('time')));
  assert.ok(Number.isNaN(parseTime('')));
  assert.ok(Number.isNaN(parseTime('0x10')));
  assert.ok(Number.isNaN(parseTime('Infinity')));
});

test('events: grouped by first appearance, time-sorted, stable for equal times, header skipped, ISO times', async () => {
  const raw = await readDocuments(`${FIXTURES}/events.tsv`);
  assert.is(raw.format, 'events');
  assert.equal(raw.ids, ['bob', 'alice', 'carol']);
  assert.equal(sequences(raw), [
    ['b0', 'b1', 'b2', 'b3'],
    ['a0', 'a1', 'a2'],
    ['c0', 'c1'],
  ]);
  assert.is(raw.users, 3);
  assert.is(raw.lines, 11);
});

test('events: no header, CRLF line ends, decimal and exponent times', async () => {
  const raw = await readDocuments(`${FIXTURES}/events-noheader.tsv`);
  assert.equal(raw.ids, ['u2', 'u1']);
  assert.equal(sequences(raw), [
    ['z', 'x'],
    ['y', 'x'],
  ]);
  assert.equal(raw.tokenStrings, ['x', 'y', 'z']);
});

test('events: --session-gap splits at gaps strictly longer than S', async () => {
  const split = await readDocuments(`${FIXTURES}/events.tsv`, { sessionGap: 1000 });
  assert.equal(split.ids, ['bob@1', 'bob@2', 'alice@1', 'carol@1', 'carol@2']);
  assert.equal(sequences(split), [['b0', 'b1', 'b2'], ['b3'], ['a0', 'a1', 'a2'], ['c0'], ['c1']]);
  // carol's gap is exactly 1800 s: not longer than 1800, so one session.
  const wide = await readDocuments(`${FIXTURES}/events.tsv`, { sessionGap: 1800 });
  assert.equal(wide.ids, ['bob@1', 'bob@2', 'alice@1', 'carol@1']);
  const none = await readDocuments(`${FIXTURES}/events.tsv`, { sessionGap: 1e9 });
  assert.equal(sequences(none), sequences(await readDocuments(`${FIXTURES}/events.tsv`)));
});

test('events: a shuffled log gives the same sequences as a time-sorted one', async () => {
  // 3 users, 40 events each with many equal times; file order of equal times must survive the sort.
  const rows: string[] = [];
  for (let step = 0; step < 40; step += 1) {
    for (const user of ['u0', 'u1', 'u2']) rows.push(`${user}\t${Math.floor(step / 4)}\t${user}-${step}`);
  }
  const sorted = await readDocuments(write('sorted.tsv', rows.join('\n')));
  // Reverse the blocks of equal time, but keep the order within each block: the result must not change.
  const blocks = new Map<string, string[]>();
  for (const row of rows) {
    const key = row.split('\t')[1];
    blocks.set(key, [...(blocks.get(key) ?? []), row]);
  }
  const reversed = [...blocks.values()].reverse().flat();
  // The first appearance of each user must stay u0, u1, u2 for the ids to match.
  const shuffled = await readDocuments(write('shuffled.tsv', reversed.join('\n')));
  assert.equal(shuffled.ids, sorted.ids);
  assert.equal(sequences(shuffled), sequences(sorted));
  assert.equal(sequences(sorted)[1].slice(0, 5), ['u1-0', 'u1-1', 'u1-2', 'u1-3', 'u1-4']);
});

test('text: one sequence per line, blank lines skipped, ids are line numbers', async () => {
  const raw = await readDocuments(`${FIXTURES}/text.txt`);
  assert.is(raw.format, 'text');
  assert.equal(raw.ids, ['1', '3', '4']);
  assert.equal(sequences(raw), [
    ['the', 'cat', 'sat', 'on', 'the', 'mat'],
    ['dog', 'cat', 'the'],
    ['the', 'end'],
  ]);
  assert.is(raw.lines, 4);
});

test('jsonl: ids, number tokens, empty sequences kept in the raw stage', async () => {
  const raw = await readDocuments(`${FIXTURES}/sequences.jsonl`);
  assert.equal(raw.ids, ['u1', '7', '4']);
  assert.equal(sequences(raw), [['a', 'b', 'a'], ['1', '2', 'a'], []]);
  const corpus = toCorpus(raw, undefined, buildVocabulary(raw).vocabulary);
  assert.equal(corpus.ids, ['u1', '7']);
  assert.is(corpus.droppedSequences, 1);
  const kept = toCorpus(raw, undefined, buildVocabulary(raw).vocabulary, { keepEmpty: true });
  assert.equal(Array.from(kept.offsets), [0, 3, 6, 6]);
});

test('gzip is detected by magic bytes, whatever the name', async () => {
  const text = 'alpha beta\ngamma alpha\n';
  for (const name of ['plain.gz', 'compressed.txt.gz', 'compressed-without-suffix.txt']) {
    const path = write(name, name === 'plain.gz' ? text : gzipSync(text));
    const raw = await readDocuments(path, { format: 'text' });
    assert.equal(
      sequences(raw),
      [
        ['alpha', 'beta'],
        ['gamma', 'alpha'],
      ],
      name,
    );
  }
  const events = write('events.tsv.gz', gzipSync('user\ttime\taction\nu\t2\tb\nu\t1\ta\n'));
  assert.equal(sequences(await readDocuments(events)), [['a', 'b']]);
  const jsonl = write('docs.jsonl.gz', gzipSync('{"id":"d","tokens":["q"]}\n'));
  assert.equal(sequences(await readDocuments(jsonl)), [['q']]);
});

test('long lines, multi-byte characters across chunk boundaries, UTF-8 byte-order mark', async () => {
  const word = 'été';
  const line = Array.from({ length: 40000 }, (_, at) => `${word}${at % 7}`).join(' ');
  const path = write('long.txt', `\ufeff${line}\nzz\n`);
  const raw = await readDocuments(path);
  assert.is(raw.offsets[1], 40000);
  assert.is(raw.tokenStrings[0], 'été0');
  assert.is(raw.tokenStrings.length, 8);
  const gz = await readDocuments(write('long.txt.gz', gzipSync(`${line}\n`)), { format: 'text' });
  assert.is(gz.tokens.length, 40000);
});

test('distinct tokens do not keep the decoded file alive (bounded memory)', async () => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  // 1500 lines of ~13 KB, each bringing one new long token: about 20 MB of text, 1500 distinct tokens.
  // Built in a helper so that none of the generated text is alive while the heap is measured.
  const path = (() => {
    const filler = Array.from({ length: 300 }, (_, at) => `common-token-number-${at % 10}`).join(' ');
    const lines = Array.from({ length: 1500 }, (_, at) => `${filler} a-new-and-rather-long-token-${at}\n`);
    return write('retain.txt.gz', gzipSync(lines.join('')));
  })();
  collect();
  collect();
  const before = process.memoryUsage().heapUsed;
  const raw = await readDocuments(path, { format: 'text' });
  collect();
  collect();
  const retained = process.memoryUsage().heapUsed - before;
  assert.is(raw.tokenStrings.length, 1510);
  assert.ok(retained < 4 * 1024 * 1024, `retained ${(retained / 1048576).toFixed(1)} MiB of heap`);
});

test('vocabulary: ids by frequency, ties by first appearance, unseen -> -1, serialisable', async () => {
  const raw = await readDocuments(`${FIXTURES}/sequences.jsonl`);
  const { vocabulary } = buildVocabulary(raw);
  assert.equal(vocabulary.toJSON(), ['a', 'b', '1', '2']);
  assert.equal(Array.from(vocabulary.counts ?? []), [3, 1, 1, 1]);
  assert.is(vocabulary.id('b'), 1);
  assert.is(vocabulary.id('nope'), -1);
  const copy = Vocabulary.fromJSON(JSON.parse(JSON.stringify(vocabulary)));
  assert.equal(copy.words, vocabulary.words);
  assert.throws(() => Vocabulary.fromJSON(['a', 'a']), /twice/);
  assert.throws(() => Vocabulary.fromJSON([1]), /array of strings/);
});

test('vocabulary: --min-count, --max-vocab, stopwords, --max-df', async () => {
  const raw = await readDocuments(`${FIXTURES}/sequences.jsonl`);
  assert.equal(buildVocabulary(raw, undefined, { minCount: 2 }).vocabulary.toJSON(), ['a']);
  const capped = buildVocabulary(raw, undefined, { maxVocab: 2 });
  assert.equal(capped.vocabulary.toJSON(), ['a', 'b']);
  assert.is(capped.removed.maxVocab, 2);
  const text = await readDocuments(`${FIXTURES}/text.txt`);
  const stopwords = await readStopwords(`${FIXTURES}/stopwords.txt`);
  assert.equal([...stopwords], ['the', 'on']);
  const withoutStopwords = buildVocabulary(text, undefined, { stopwords }).vocabulary;
  assert.equal(withoutStopwords.toJSON(), ['cat', 'sat', 'mat', 'dog', 'end']);
  // 'the' is in 3 of 3 sequences, 'cat' in 2 of 3.
  assert.equal(buildVocabulary(text, undefined, { maxDf: 0.7 }).vocabulary.toJSON(), [
    'cat',
    'sat',
    'on',
    'mat',
    'dog',
    'end',
  ]);
  assert.equal(buildVocabulary(text, undefined, { maxDf: 0.5 }).vocabulary.toJSON(), [
    'sat',
    'on',
    'mat',
    'dog',
    'end',
  ]);
  const corpus = toCorpus(text, undefined, withoutStopwords);
  assert.is(corpus.skippedTokens, 5);
  assert.equal(Array.from(corpus.offsets), [0, 3, 5, 6]);
  assert.throws(
    () => buildVocabulary(text, undefined, { minCount: 100 }),
    (error: unknown) => error instanceof InputError && /no action is left/.test(error.message),
  );
});

test('vocabulary from a training split; held-out tokens outside it are skipped and counted', async () => {
  const raw = await readDocuments(`${FIXTURES}/text.txt`);
  const { vocabulary } = buildVocabulary(raw, [0]);
  assert.equal(vocabulary.toJSON(), ['the', 'cat', 'sat', 'on', 'mat']);
  const heldOut = toCorpus(raw, [1, 2], vocabulary);
  assert.equal(heldOut.ids, ['3', '4']);
  assert.equal(Array.from(heldOut.sourceIndex), [1, 2]);
  assert.equal(Array.from(heldOut.tokens), [1, 0, 0]);
  assert.is(heldOut.skippedTokens, 2);
  assert.throws(() => toCorpus(raw, [3], vocabulary), /out of range/);
});

test('--max-length chunks long sequences into pieces of at most L', async () => {
  const raw = await readDocuments(`${FIXTURES}/events.tsv`);
  const corpus = toCorpus(raw, undefined, buildVocabulary(raw).vocabulary, { maxLength: 2 });
  assert.equal(corpus.ids, ['bob#1', 'bob#2', 'alice#1', 'alice#2', 'carol']);
  assert.equal(Array.from(corpus.offsets), [0, 2, 4, 6, 7, 9]);
  assert.equal(Array.from(corpus.sourceIndex), [0, 0, 1, 1, 2]);
  assert.is(corpus.chunkedSequences, 2);
  const words = corpus.vocabulary.words;
  assert.equal(
    Array.from(corpus.tokens, (id) => words[id]),
    ['b0', 'b1', 'b2', 'b3', 'a0', 'a1', 'a2', 'c0', 'c1'],
  );
  assert.throws(() => toCorpus(raw, undefined, corpus.vocabulary, { maxLength: 0 }), /maxLength/);
});

test('the allocator callback provides the final arrays (zero-copy into kernel memory)', async () => {
  const allocated: Int32Array[] = [];
  const corpus = await loadCorpus(`${FIXTURES}/text.txt`, {
    allocInt32: (length) => {
      const array = new Int32Array(new ArrayBuffer(4 * (length + 8)), 16, length);
      allocated.push(array);
      return array;
    },
  });
  assert.is(allocated.length, 2);
  assert.ok(corpus.tokens === allocated[0]);
  assert.ok(corpus.offsets === allocated[1]);
  assert.is(corpus.tokens.length, 11);
  assert.throws(() =>
    toCorpus(corpus as unknown as RawDocuments, undefined, corpus.vocabulary, { allocInt32: () => new Int32Array(0) }),
  );
});

test('lengthSummary: nearest-rank quantiles and mean', () => {
  const offsets = Int32Array.from([0, 1, 3, 6, 10, 15, 21, 28, 36, 45, 55]); // lengths 1..10
  const summary = lengthSummary(offsets);
  assert.equal(summary, { min: 1, p10: 1, median: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
});

test('bad input: missing file, directory, empty corpus', async () => {
  let error = await inputError(() => readDocuments(join(scratch, 'missing.txt')));
  assert.match(error.message, /missing\.txt: no such file/);
  mkdirSync(join(scratch, 'folder.tsv'));
  error = await inputError(() => readDocuments(join(scratch, 'folder.tsv')));
  assert.match(error.message, /is a directory/);
  for (const [name, content, format] of [
    ['empty.txt', '', 'text'],
    ['blank.txt', '\n  \n\t\n', 'text'],
    ['header-only.tsv', 'user\ttime\taction\n', 'events'],
    ['empty-tokens.jsonl', '{"id":1,"tokens":[]}\n', 'jsonl'],
  ]) {
    error = await inputError(() => readDocuments(write(name, content)));
    assert.ok(error.message.startsWith(`${join(scratch, name)}: empty corpus`), error.message);
    assert.ok(error.message.includes(format), error.message);
  }
});

test('bad input: malformed TSV rows name the line', async () => {
  const cases: [string, number, RegExp][] = [
    ['user\ttime\taction\na\t1\tx\nb\t2\n', 3, /2 tab-separated fields/],
    ['a\t1\tx\nb\t2\ty\tz\n', 2, /4 tab-separated fields/],
    ['user\ttime\taction\na\t1\tx\nb\tyesterday\ty\n', 3, /unreadable time 'yesterday'/],
    ['a\t1\tx\n\t2\ty\n', 2, /empty user/],
    ['just words here\n', 1, /--format text/],
  ];
  for (const [content, line, pattern] of cases) {
    const path = write('bad.tsv', content);
    const error = await inputError(() => readDocuments(path));
    assert.is(error.line, line, content);
    assert.ok(error.message.startsWith(`${path}:${line}: `), error.message);
    assert.match(error.message, pattern);
  }
});

test('bad input: broken JSON lines name the line', async () => {
  const cases: [string, number, RegExp][] = [
    ['{"id":1,"tokens":["a"]}\n{"id":2,"tokens":["a"\n', 2, /broken JSON/],
    ['{"id":1}\n', 1, /no "tokens" array/],
    ['\n["a"]\n', 2, /not a JSON object/],
    ['{"id":1,"tokens":["a", {"b":1}]}\n', 1, /token 2 is \{"b":1\}/],
    ['{"id":1,"tokens":["a", ""]}\n', 1, /token 2 is ""/],
    ['{"id":[1],"tokens":["a"]}\n', 1, /"id" must be/],
  ];
  for (const [content, line, pattern] of cases) {
    const path = write('bad.jsonl', content);
    const error = await inputError(() => readDocuments(path));
    assert.ok(error.message.startsWith(`${path}:${line}: `), error.message);
    assert.match(error.message, pattern);
  }
});

test('bad input: invalid UTF-8, NUL bytes, UTF-16, over-long lines', async () => {
  // 0xC3 0x28: a two-byte lead followed by a byte that cannot continue it.
  const invalid = write(
    'latin.txt',
    Buffer.concat([Buffer.from('fine line\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from(' here\n')]),
  );
  let error = await inputError(() => readDocuments(invalid));
  assert.ok(error.message.startsWith(`${invalid}:2: invalid UTF-8 (byte 5 of the line)`), error.message);
  // An invalid byte far into a gzip stream (past the first chunks) still gets its right line number.
  const many = `${'word '.repeat(20)}\n`.repeat(5000);
  const lateInvalid = write('late.txt.gz', gzipSync(Buffer.concat([Buffer.from(many), Buffer.from([0xff, 0x0a])])));
  error = await inputError(() => readDocuments(lateInvalid, { format: 'text' }));
  assert.is(error.line, 5001);
  const binary = write(
    'binary.txt',
    Buffer.concat([Buffer.from('a b\nc d\nx'), Buffer.from([0, 1, 2]), Buffer.from('\n')]),
  );
  error = await inputError(() => readDocuments(binary));
  assert.ok(error.message.startsWith(`${binary}:3: binary data`), error.message);
  const utf16 = write('utf16.txt', Buffer.from('\ufeffa b\n', 'utf16le'));
  error = await inputError(() => readDocuments(utf16));
  assert.match(error.message, /:1: the file is UTF-16/);
  const long = write('long.txt', `short\n${'x'.repeat(300)}\nshort\n`);
  error = await inputError(() => readDocuments(long, { maxLineBytes: 100 }));
  assert.ok(error.message.startsWith(`${long}:2: line longer than 100 bytes`), error.message);
  // A line without any newline, longer than the cap, is rejected while it is still being read.
  const endless = write('endless.txt', 'y'.repeat(500_000));
  error = await inputError(() => readDocuments(endless, { maxLineBytes: 200_000 }));
  assert.is(error.line, 1);
  assert.match(error.message, /line longer than/);
});

test('bad input: truncated and corrupt gzip', async () => {
  const text = Array.from({ length: 3000 }, (_, at) => `user${at % 17}\t${at}\taction${at % 101}`).join('\n');
  const packed = gzipSync(text);
  const truncated = write('truncated.tsv.gz', packed.subarray(0, packed.length >> 1));
  let error = await inputError(() => readDocuments(truncated));
  assert.match(error.message, /truncated.tsv.gz:\d+: the gzip data ends early/);
  const corrupt = Buffer.from(packed);
  for (let at = 40; at < corrupt.length - 40; at += 97) corrupt[at] ^= 0x5a;
  const corruptPath = write('corrupt.tsv.gz', corrupt);
  error = await inputError(() => readDocuments(corruptPath));
  assert.match(error.message, /corrupt.tsv.gz:\d+: corrupt gzip data/);
  const noHeader = write('header.gz', Buffer.from([0x1f, 0x8b, 0x00, 0x00]));
  error = await inputError(() => readDocuments(noHeader));
  assert.match(error.message, /header.gz:1: /);
});

test('--session-gap on a non-event format is a usage error', async () => {
  try {
    await readDocuments(`${FIXTURES}/text.txt`, { sessionGap: 10 });
    assert.unreachable('expected a UsageError');
  } catch (error) {
    assert.instance(error, UsageError);
    assert.match((error as Error).message, /--session-gap/);
  }
});

test('real data: the event log and Brown load with the README counts', async () => {
  const events = '../shared/data/gitdev-events.tsv.gz';
  const brown = '../shared/data/brown.txt.gz';
  const { existsSync } = await import('node:fs');
  if (!existsSync(events) || !existsSync(brown)) {
    throw new Error(
      'the real data is missing: expected ../shared/data/gitdev-events.tsv.gz and brown.txt.gz ' +
        'relative to the project root (run the tests from the project root)',
    );
  }
  let started = performance.now();
  const log = await readDocuments(events);
  const eventSeconds = (performance.now() - started) / 1000;
  assert.is(log.offsets.length - 1, 2621);
  assert.is(log.tokens.length, 408870);
  assert.is(log.tokenStrings.length, 14011);
  const lengths = lengthSummary(log.offsets);
  assert.is(lengths.median, 22);
  assert.is(lengths.max, 19928);
  started = performance.now();
  const text = await readDocuments(brown);
  const brownSeconds = (performance.now() - started) / 1000;
  assert.is(text.offsets.length - 1, 500);
  assert.is(text.tokens.length, 1013640);
  assert.is(text.tokenStrings.length, 43202);
  // Generous bounds (the machine is shared): a regression to per-event objects or quadratic work fails them.
  assert.ok(eventSeconds < 5, `event log loaded in ${eventSeconds.toFixed(2)} s`);
  assert.ok(brownSeconds < 5, `Brown loaded in ${brownSeconds.toFixed(2)} s`);
  const corpus = toCorpus(log, undefined, buildVocabulary(log, undefined, { minCount: 5 }).vocabulary, {
    maxLength: 1000,
  });
  assert.ok(corpus.vocabulary.size < 14011);
  for (let d = 0; d + 1 < corpus.offsets.length; d += 1) assert.ok(corpus.offsets[d + 1] - corpus.offsets[d] <= 1000);
  assert.is(corpus.tokens.length + corpus.skippedTokens, 408870);
});

test.run();
