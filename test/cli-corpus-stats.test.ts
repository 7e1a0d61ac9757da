// `lla corpus-stats` end to end: spawns the real executable, checks output, exit codes and error messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CORPUS_OPTIONS, corpusOptionsFrom, parseDuration } from '../src/cli/corpus-options.js';
import { parseCommandArgs } from '../src/cli/options.js';
import { InputError, UsageError } from '../src/errors.js';

const FIXTURES = 'test/fixtures/corpus';
const scratch = mkdtempSync(join(tmpdir(), 'lla-corpus-cli-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function lla(...args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/lla.js', ...args], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

function lastJson(run: Run): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

function write(name: string, content: string | Buffer): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

/** exit 2, nothing on stdout, one clear message naming `where`, no stack trace */
function assertInputFailure(run: Run, where: string, pattern: RegExp): void {
  assert.is(run.code, 2, `exit code; stderr: ${run.stderr}`);
  assert.is(run.stdout, '', 'nothing on stdout');
  assert.ok(run.stderr.includes(where), `'${where}' in: ${run.stderr}`);
  assert.match(run.stderr, pattern);
  assert.not.match(run.stderr, /\n\s+at /, 'no stack trace');
  assert.not.match(run.stderr, /unexpected failure/);
}

test('human output: an aligned table of the counts and length quantiles', async () => {
  const run = await lla('corpus-stats', `${FIXTURES}/events.tsv`);
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stderr, '');
  const rows = run.stdout.trimEnd().split('\n');
  const row = (label: string) => rows.find((line) => line.startsWith(`${label} `)) ?? '';
  assert.match(row('format'), /events$/);
  assert.match(row('sequences'), / 3$/);
  assert.match(row('tokens'), / 9$/);
  assert.match(row('distinct tokens'), / 9$/);
  assert.match(row('mean length'), / 3\.0$/);
  // Labels end before one shared value column; every row has a value there.
  const column = rows[0].indexOf(`${FIXTURES}/events.tsv`);
  for (const line of rows) {
    assert.match(line.slice(0, column), /^[a-z ]* {2}$/, `label column: '${line}'`);
    assert.ok(line.slice(column).trim() !== '', `a value: '${line}'`);
  }
  assert.is(rows[0][column - 1], ' ');
  // Quantile values are right-aligned under their names.
  const quantileHeader = rows.findIndex((line) => line.startsWith('length '));
  assert.match(rows[quantileHeader], /min\s+10%\s+median\s+90%\s+99%\s+max$/);
  const ends = (line: string) => [...line.matchAll(/\S+/g)].map((match) => (match.index ?? 0) + match[0].length);
  assert.equal(
    ends(rows[quantileHeader + 1]),
    ends(rows[quantileHeader].slice(column)).map((end) => end + column),
  );
  assert.equal(rows[quantileHeader + 1].trim().split(/\s+/), ['2', '2', '3', '4', '4', '4']);
});

test('--json: the last line is the result object', async () => {
  const run = await lla('corpus-stats', `${FIXTURES}/sequences.jsonl`, '--json');
  assert.is(run.code, 0, run.stderr);
  const result = lastJson(run);
  assert.is(result.file, `${FIXTURES}/sequences.jsonl`);
  assert.is(result.format, 'jsonl');
  assert.is(result.sequences, 3);
  assert.is(result.tokens, 6);
  assert.is(result.vocabulary, 4);
  assert.equal(result.lengths, { min: 0, p10: 0, median: 3, p90: 3, p99: 3, max: 3, mean: 2 });
});

test('--session-gap (seconds or with a unit) and --format override', async () => {
  let result = lastJson(await lla('corpus-stats', `${FIXTURES}/events.tsv`, '--session-gap', '1000', '--json'));
  assert.is(result.sequences, 5);
  assert.is(result.users, 3);
  result = lastJson(await lla('corpus-stats', `${FIXTURES}/events.tsv`, '--session-gap', '30m', '--json'));
  assert.is(result.sequences, 4);
  // Read as text, each row is a sequence of its three fields (the header too).
  result = lastJson(await lla('corpus-stats', `${FIXTURES}/events.tsv`, '--format', 'text', '--json'));
  assert.is(result.format, 'text');
  assert.is(result.sequences, 10);
  assert.is(result.tokens, 30);
});

test('--help lists the corpus options', async () => {
  const run = await lla('corpus-stats', '--help');
  assert.is(run.code, 0);
  assert.match(run.stdout, /--format FORMAT/);
  assert.match(run.stdout, /--session-gap S/);
  assert.match(run.stdout, /--json/);
});

test('bad usage: exit 2 with a message', async () => {
  let run = await lla('corpus-stats', `${FIXTURES}/events.tsv`, '--format', 'xml');
  assertInputFailure(run, '--format', /one of text, events, jsonl/);
  run = await lla('corpus-stats', `${FIXTURES}/text.txt`, '--session-gap', '60');
  assertInputFailure(run, '--session-gap', /--format events/);
  run = await lla('corpus-stats', `${FIXTURES}/events.tsv`, '--session-gap', 'soon');
  assertInputFailure(run, '--session-gap', /duration/);
  run = await lla('corpus-stats');
  assertInputFailure(run, 'corpus-stats', /expected <file>/);
});

test('bad input: exit 2, file and line named, nothing on stdout', async () => {
  const missing = join(scratch, 'nope.tsv');
  assertInputFailure(await lla('corpus-stats', missing), `${missing}: no such file`, /no such file/);
  const folder = join(scratch, 'folder.txt');
  mkdirSync(folder);
  assertInputFailure(await lla('corpus-stats', folder), folder, /is a directory/);
  const empty = write('empty.txt', '');
  assertInputFailure(await lla('corpus-stats', empty), `${empty}: empty corpus`, /the file is empty/);
  const tsv = write('bad.tsv', 'user\ttime\taction\nu\t1\ta\nu\tlater\tb\n');
  assertInputFailure(await lla('corpus-stats', tsv), `${tsv}:3:`, /unreadable time 'later'/);
  const fields = write('fields.tsv', 'u\t1\ta\nu\t2\n');
  assertInputFailure(await lla('corpus-stats', fields), `${fields}:2:`, /2 tab-separated fields/);
  const json = write('bad.jsonl', '{"id": 1, "tokens": ["a"]}\n{"id": 2, "tokens": ["a",\n');
  assertInputFailure(await lla('corpus-stats', json), `${json}:2:`, /broken JSON/);
  const noTokens = write('no-tokens.jsonl', '{"id": 1, "words": ["a"]}\n');
  assertInputFailure(await lla('corpus-stats', noTokens), `${noTokens}:1:`, /"tokens" array/);
  const latin = write('latin1.txt', Buffer.from('ok\ncaf\xe9 au lait\n', 'latin1'));
  assertInputFailure(await lla('corpus-stats', latin), `${latin}:2:`, /invalid UTF-8/);
  const binary = write('binary.txt', Buffer.from([0x61, 0x0a, 0x00, 0xff, 0x10, 0x0a]));
  assertInputFailure(await lla('corpus-stats', binary), `${binary}:2:`, /binary data/);
  const packed = gzipSync('u\t1\ta\n'.repeat(20000));
  const truncated = write('cut.tsv.gz', packed.subarray(0, packed.length - 100));
  assertInputFailure(await lla('corpus-stats', truncated), `${truncated}:`, /gzip data ends early/);
});

test('bad input: a line over 64 MiB is refused without reading it whole', async () => {
  const huge = join(scratch, 'huge.txt');
  writeFileSync(huge, 'first line\n');
  writeFileSync(huge, Buffer.alloc(65 * 1024 * 1024, 0x61), { flag: 'a' });
  const run = await lla('corpus-stats', huge);
  rmSync(huge);
  assertInputFailure(run, `${huge}:2:`, /line longer than 64 MiB/);
});

test('shared corpus flags: parsed, validated, stopwords read up front', async () => {
  const parse = (...argv: string[]) => corpusOptionsFrom('train', parseCommandArgs('train', argv, CORPUS_OPTIONS));
  const settings = await parse(
    '--format',
    'events',
    '--session-gap',
    '2h',
    '--min-count',
    '5',
    '--max-vocab',
    '1000',
    '--max-df',
    '0.5',
    '--max-length',
    '200',
    '--stopwords',
    `${FIXTURES}/stopwords.txt`,
  );
  assert.equal(settings.read, { format: 'events', sessionGap: 7200 });
  assert.is(settings.vocabulary.minCount, 5);
  assert.is(settings.vocabulary.maxVocab, 1000);
  assert.is(settings.vocabulary.maxDf, 0.5);
  assert.equal([...(settings.vocabulary.stopwords ?? [])], ['the', 'on']);
  assert.equal(settings.corpus, { maxLength: 200 });
  const defaults = await parse();
  assert.equal(defaults, { read: {}, vocabulary: { minCount: 1 }, corpus: {} });
  assert.is(parseDuration('train', 'session-gap', '1.5d'), 129600);
  for (const bad of [
    ['--min-count', '0'],
    ['--max-df', '0'],
    ['--max-df', '1.5'],
    ['--max-length', '-3'],
    ['--max-vocab', 'many'],
    ['--session-gap', '-5'],
    ['--format', 'csv'],
  ]) {
    try {
      await parse(...bad);
      assert.unreachable(`${bad.join(' ')} should be refused`);
    } catch (error) {
      assert.instance(error, UsageError, bad.join(' '));
      assert.ok((error as Error).message.includes(bad[0]), (error as Error).message);
    }
  }
  try {
    await parse('--stopwords', join(scratch, 'no-stopwords.txt'));
    assert.unreachable('a missing stopword file should be refused');
  } catch (error) {
    assert.instance(error, InputError);
    assert.match((error as Error).message, /no-stopwords.txt: no such file/);
  }
});

test('real data: corpus-stats --json gives the README counts', async () => {
  const events = '../shared/data/gitdev-events.tsv.gz';
  const brown = '../shared/data/brown.txt.gz';
  if (!existsSync(events) || !existsSync(brown)) {
    throw new Error(
      'the real data is missing: expected ../shared/data/gitdev-events.tsv.gz and brown.txt.gz ' +
        'relative to the project root (run the tests from the project root)',
    );
  }
  const log = await lla('corpus-stats', events, '--json');
  assert.is(log.code, 0, log.stderr);
  const logStats = lastJson(log);
  assert.is(logStats.format, 'events');
  assert.is(logStats.file, events);
  assert.is(logStats.sequences, 2621);
  assert.is(logStats.tokens, 408870);
  assert.is(logStats.vocabulary, 14011);
  assert.is((logStats.lengths as { median: number }).median, 22);
  assert.is((logStats.lengths as { max: number }).max, 19928);
  const text = await lla('corpus-stats', brown, '--json');
  assert.is(text.code, 0, text.stderr);
  const textStats = lastJson(text);
  assert.is(textStats.format, 'text');
  assert.is(textStats.sequences, 500);
  assert.is(textStats.tokens, 1013640);
  assert.is(textStats.vocabulary, 43202);
  console.log(
    `      corpus-stats: event log read in ${logStats.seconds} s (process ${log.seconds.toFixed(2)} s), ` +
      `Brown in ${textStats.seconds} s (process ${text.seconds.toFixed(2)} s)`,
  );
});

test.run();
