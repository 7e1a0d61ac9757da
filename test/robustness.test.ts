// Bad input never crashes a command (SPEC section 5, issue 5 point 1): a matrix of commands (train, eval, infer,
// predict, corpus-stats) x bad inputs (missing, empty, binary, malformed lines of each format, invalid UTF-8, a
// line over 64 MiB, invalid option values, unknown flags, an unknown LLA_BACKEND, damaged / truncated /
// future-version model files). Every case: exit code 2, a short stderr message naming the file (and the line
// where there is one) and the problem, no stack trace, and nothing written (no --out file, no checkpoint, no
// results on stdout). The runs are independent, so they go in parallel in `before` and each test reads its run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli as runHelper } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-robustness-'));
const at = (name: string) => join(folder, name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const baseEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete baseEnv.LLA_BACKEND;
delete baseEnv.LLA_TF_BACKEND;

function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runHelper(argv, { ...baseEnv, ...env });
}

// ---- inputs -------------------------------------------------------------------------------------------------

/** A small valid event log: 12 users x 15 events over 8 actions (trains an lda model in well under a second). */
function goodEvents(): string {
  let text = 'user\ttime\taction\n';
  let state = 7;
  for (let user = 0; user < 12; user++) {
    for (let t = 0; t < 15; t++) {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      text += `u${user}\t${1000 + 60 * t}\ta${state % 8}\n`;
    }
  }
  return text;
}

const GOOD = at('good.tsv');
const MODEL = at('model.lla');

/** A bad input file: its name, contents, and the 1-based line its message must name (if any). */
interface BadInput {
  name: string;
  file: string;
  line?: number;
  /** a word the message must contain (the problem), case-insensitive */
  problem: RegExp;
  write?: () => void;
}

const LONG_LINE_BYTES = 64 * 1024 * 1024 + 4096;

const badInputs: BadInput[] = [
  { name: 'missing file', file: at('missing.tsv'), problem: /no such file/i },
  { name: 'empty file', file: at('empty.tsv'), problem: /empty/i, write: () => writeFileSync(at('empty.tsv'), '') },
  {
    name: 'binary data', file: at('binary.txt'), problem: /binary|UTF-8/i,
    write: () => {
      // seeded bytes with NULs and high bytes, as from an image or an executable
      const bytes = Buffer.alloc(4096);
      let state = 99;
      for (let i = 0; i < bytes.length; i++) {
        state = (state * 1103515245 + 12345) & 0x7fffffff;
        bytes[i] = state >>> 16;
      }
      bytes[5] = 0;
      writeFileSync(at('binary.txt'), bytes);
    },
  },
  {
    // gzip is recognised by its magic bytes (a plain file named .gz reads as plain text): corrupt after them
    name: 'corrupt gzip data', file: at('corrupt.tsv.gz'), problem: /gzip/i,
    write: () => {
      const whole = gzipSync(Buffer.from(goodEvents()));
      for (let i = 12; i < whole.length - 8; i += 7) whole[i] ^= 0xa5;
      writeFileSync(at('corrupt.tsv.gz'), whole);
    },
  },
  {
    name: 'truncated gzip', file: at('truncated.tsv.gz'), problem: /gzip/i,
    write: () => {
      const whole = gzipSync(Buffer.from(goodEvents()));
      writeFileSync(at('truncated.tsv.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    },
  },
  {
    name: 'TSV row with the wrong number of fields', file: at('fields.tsv'), line: 3, problem: /field/i,
    write: () => writeFileSync(at('fields.tsv'), 'user\ttime\taction\nu1\t10\ta\nu1\t11\n'),
  },
  {
    name: 'TSV row with an unreadable time', file: at('time.tsv'), line: 4, problem: /time/i,
    write: () => writeFileSync(at('time.tsv'), 'user\ttime\taction\nu1\t10\ta\nu1\t11\tb\nu2\tyesterday\tc\n'),
  },
  {
    name: 'broken JSON line', file: at('broken.jsonl'), line: 2, problem: /JSON/i,
    write: () => writeFileSync(at('broken.jsonl'), '{"id": "a", "tokens": ["x", "y"]}\n{"id": "b", "tokens": ["x",\n'),
  },
  {
    name: 'JSON line without tokens', file: at('shape.jsonl'), line: 1, problem: /tokens/i,
    write: () => writeFileSync(at('shape.jsonl'), '{"id": "a", "actions": ["x"]}\n'),
  },
  {
    name: 'invalid UTF-8', file: at('latin1.txt'), line: 2, problem: /UTF-8/i,
    write: () => writeFileSync(at('latin1.txt'), Buffer.concat([Buffer.from('a b c\nd '), Buffer.from([0xe9, 0xff]), Buffer.from(' f\n')])),
  },
  {
    name: 'a line over 64 MiB', file: at('long.txt'), line: 2, problem: /longer than/i,
    write: () => {
      // written in 1 MiB pieces: the test never holds the 64 MiB line itself
      const fd = openSync(at('long.txt'), 'w');
      writeSync(fd, 'a b c\n');
      const piece = Buffer.alloc(1 << 20, 'x');
      for (let written = 0; written < LONG_LINE_BYTES; written += piece.length) writeSync(fd, piece);
      writeSync(fd, '\n');
      closeSync(fd);
    },
  },
];

/** Damaged model files, made from the good model. */
interface BadModel {
  name: string;
  file: string;
  problem: RegExp;
  make: (good: Buffer) => Buffer | null;
}

const badModels: BadModel[] = [
  { name: 'missing model file', file: at('absent.lla'), problem: /no such file|does not exist|not found/i, make: () => null },
  { name: 'empty model file', file: at('empty.lla'), problem: /empty|truncated|not an lla model/i, make: () => Buffer.alloc(0) },
  { name: 'not a model (an event log)', file: at('events-as-model.lla'), problem: /not an lla model/i, make: () => Buffer.from(goodEvents()) },
  {
    name: 'truncated model file', file: at('truncated.lla'), problem: /truncated|ends|short/i,
    make: (good) => good.subarray(0, Math.floor(good.length * 0.6)),
  },
  {
    name: 'damaged model file (a flipped byte)', file: at('damaged.lla'), problem: /damaged|checksum|corrupt/i,
    make: (good) => {
      const copy = Buffer.from(good);
      copy[copy.length - 40] ^= 0x5a;
      return copy;
    },
  },
  {
    name: 'future-version model file', file: at('future.lla'), problem: /format 99|upgrade/i,
    make: (good) => {
      const copy = Buffer.from(good);
      copy.writeUInt32LE(99, 8);
      return copy;
    },
  },
];

// ---- the matrix ------------------------------------------------------------------------------------------------

type CommandName = 'train' | 'eval' | 'infer' | 'predict' | 'corpus-stats';
const COMMANDS: CommandName[] = ['train', 'eval', 'infer', 'predict', 'corpus-stats'];

interface Case {
  title: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** files the message must name (basename is enough) */
  names: string[];
  line?: number;
  problem: RegExp;
  /** paths that must not exist afterwards */
  noWrite: string[];
  result?: Run;
}

const OUT_CHECKS = (out: string) => [out, `${out}.ckpt`];

/** argv of `command` reading `input`, writing (train) to `out`, with extra options. */
function argvFor(command: CommandName, input: string, out: string, extra: string[] = [], model = MODEL): string[] {
  switch (command) {
    case 'train':
      return ['train', input, '--model', 'lda', '--topics', '3', '--iterations', '2', '--out', out, '--checkpoint-every', '1', ...extra];
    case 'corpus-stats':
      return ['corpus-stats', input, ...extra];
    default:
      return [command, model, input, ...extra];
  }
}

/** per command: an option value that is out of range, a negative one and one that is not a number */
const BAD_OPTIONS: Record<CommandName, { zero: string[]; negative: string[]; notNumber: string[]; name: string }> = {
  train: { zero: ['--topics', '0'], negative: ['--iterations', '-3'], notNumber: ['--topics', 'many'], name: 'topics|iterations' },
  eval: { zero: ['--particles', '0'], negative: ['--max-length', '-1'], notNumber: ['--particles', 'lots'], name: 'particles|max-length' },
  infer: { zero: ['--sweeps', '0'], negative: ['--sweeps', '-2'], notNumber: ['--sweeps', 'ten'], name: 'sweeps' },
  predict: { zero: ['--top', '0'], negative: ['--particles', '-5'], notNumber: ['--top', '1e'], name: 'top|particles' },
  'corpus-stats': { zero: ['--format', 'csv'], negative: ['--session-gap', '-5'], notNumber: ['--session-gap', 'soon'], name: 'format|session-gap' },
};

const cases: Case[] = [];
let counter = 0;
for (const command of COMMANDS) {
  const nextOut = () => at(`out-${command}-${counter++}.lla`);
  for (const input of badInputs) {
    const out = nextOut();
    cases.push({
      title: `${command}: ${input.name}`, argv: argvFor(command, input.file, out),
      names: [basename(input.file)], ...(input.line !== undefined ? { line: input.line } : {}), problem: input.problem,
      noWrite: OUT_CHECKS(out),
    });
  }
  const options = BAD_OPTIONS[command];
  for (const [label, extra] of [['an out-of-range option value', options.zero], ['a negative option value', options.negative],
    ['a non-numeric option value', options.notNumber], ['an unknown flag', ['--bogus-flag']]] as const) {
    const out = nextOut();
    const flag = label === 'an unknown flag' ? 'bogus-flag' : options.name;
    cases.push({
      title: `${command}: ${label} (${extra.join(' ')})`, argv: argvFor(command, GOOD, out, [...extra]),
      names: [], problem: new RegExp(`--?(${flag})`), noWrite: OUT_CHECKS(out),
    });
  }
  if (command !== 'corpus-stats') {
    const out = nextOut();
    cases.push({
      title: `${command}: an unknown LLA_BACKEND`, argv: argvFor(command, GOOD, out), env: { LLA_BACKEND: 'gpu' },
      names: [], problem: /LLA_BACKEND.*gpu|gpu.*LLA_BACKEND/, noWrite: OUT_CHECKS(out),
    });
  }
}
// the model-taking commands, and train --from (which reads a model too)
for (const command of ['eval', 'infer', 'predict', 'train'] as const) {
  for (const bad of badModels) {
    const out = at(`out-${command}-${counter++}.lla`);
    const argv = command === 'train'
      ? ['train', GOOD, '--model', 'lda', '--from', bad.file, '--iterations', '1', '--out', out]
      : argvFor(command, GOOD, out, [], bad.file);
    cases.push({ title: `${command}: ${bad.name}`, argv, names: [basename(bad.file)], problem: bad.problem, noWrite: OUT_CHECKS(out) });
  }
}

// ---- running --------------------------------------------------------------------------------------------------

async function runAll(pending: Case[], parallel: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const item = pending[next++];
      item.result = await runCli(item.argv, item.env);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

const matrix = suite('robustness: bad input to every command exits 2 with a clear message and writes nothing');

matrix.before(async () => {
  writeFileSync(GOOD, goodEvents());
  const trained = await runCli(['train', GOOD, '--model', 'lda', '--topics', '3', '--iterations', '3', '--out', MODEL, '--json']);
  assert.is(trained.code, 0, `training the reference model failed: ${trained.stderr}`);
  for (const input of badInputs) input.write?.();
  const good = readFileSync(MODEL);
  for (const bad of badModels) {
    const bytes = bad.make(good);
    if (bytes) writeFileSync(bad.file, bytes);
  }
  const started = performance.now();
  await runAll(cases, 3);
  console.log(`  robustness: ${cases.length} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

matrix.after(() => {
  rmSync(folder, { recursive: true, force: true });
});

for (const item of cases) {
  matrix(item.title, () => {
    const run = item.result!;
    const context = `\n$ lla ${item.argv.join(' ')}\nexit ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout.slice(0, 400)}`;
    assert.is(run.code, 2, `exit code${context}`);
    assert.not.match(run.stderr, /^\s+at /m, `a stack trace on stderr${context}`);
    assert.not.match(run.stderr, /unexpected failure|bug in lla/i, `reported as an internal failure${context}`);
    const message = run.stderr.trim();
    assert.ok(message.length > 0 && message.length <= 700 && message.split('\n').length <= 3,
      `the message should be short (at most 3 lines, 700 characters)${context}`);
    for (const name of item.names) assert.ok(message.includes(name), `the message should name ${name}${context}`);
    if (item.line !== undefined) {
      assert.match(message, new RegExp(`:${item.line}:|line ${item.line}\\b`), `the message should name line ${item.line}${context}`);
    }
    assert.match(message, item.problem, `the message should say what is wrong (${item.problem})${context}`);
    assert.is(run.stdout.trim(), '', `no results on stdout${context}`);
    for (const path of item.noWrite) assert.not.ok(existsSync(path), `${path} was written${context}`);
  });
}

// corpus-stats never loads a kernel: a misspelled LLA_BACKEND does not stop it (the kernel commands refuse it above)
matrix('corpus-stats ignores LLA_BACKEND (it runs no kernel)', async () => {
  const run = await runCli(['corpus-stats', GOOD, '--json'], { LLA_BACKEND: 'gpu' });
  assert.is(run.code, 0, run.stderr);
  assert.is(JSON.parse(run.stdout).tokens, 12 * 15);
});

matrix.run();
