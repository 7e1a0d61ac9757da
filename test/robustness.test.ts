// Bad input never crashes a command (SPEC section 5, issue 5 point 1): a matrix of commands (train, eval, infer,
// predict, corpus-stats) x bad inputs (missing, empty, binary, malformed lines of each format, invalid UTF-8, a
// line over 64 MiB, invalid option values, unknown flags, an unknown LLA_BACKEND, damaged / truncated /
// future-version model files). Every case: exit code 2, a short stderr message naming the file (and the line
// where there is one) and the problem, no stack trace, and nothing written (no --out file, no checkpoint, no
// results on stdout). The runs are independent, so they go in parallel in `before` and each test reads its run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
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
    name: 'binary data',
    file: at('binary.txt'),
    problem: /binary|UTF-8/i,
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
    name: 'corrupt gzip data',
    file: at('corrupt.tsv.gz'),
    problem: /gzip/i,
    write: () => {
      const whole = gzipSync(Buffer.from(goodEvents()));
      for (let i = 12; i < whole.length - 8; i += 7) whole[i] ^= 0xa5;
      writeFileSync(at('corrupt.tsv.gz'), whole);
    },
  },
  {
    name: 'truncated gzip',
    file: at('truncated.tsv.gz'),
    problem: /gzip/i,
    write: () => {
      const whole = gzipSync(Buffer.from(goodEvents()));
      writeFileSync(at('truncated.tsv.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    },
  },
  {
    name: 'TSV row with the wrong number of fields',
    file: at('fields.tsv'),
    line: 3,
    problem: /field/i,
    write: () => writeFileSync(at('fields.tsv'), 'user\ttime\taction\nu1\t10\ta\nu1\t11\n'),
  },
  {
    name: 'TSV row with an unreadable time',
    file: at('time.tsv'),
    line: 4,
    problem: /time/i,
    write: () => writeFileSync(at('time.tsv'), 'user\ttime\taction\nu1\t10\ta\nu1\t11\tb\nu2\tyesterday\tc\n'),
  },
  {
    name: 'broken JSON line',
    file: at('broken.jsonl'),
    line: 2,
    problem: /JSON/i,
    write: () => writeFileSync(at('broken.jsonl'), '{"id": "a", "tokens": ["x", "y"]}\n{"id": "b", "tokens": ["x",\n'),
  },
  {
    name: 'JSON line without tokens',
    file: at('shape.jsonl'),
    line: 1,
    problem: /tokens/i,
    write: () => writeFileSync(at('shape.jsonl'), '{"id": "a", "actions": ["x"]}\n'),
  },
  {
    name: 'invalid UTF-8',
    file: at('latin1.txt'),
    line: 2,
    problem: /UTF-8/i,
    write: () =>
      writeFileSync(
        at('latin1.txt'),
        Buffer.concat([Buffer.from('a b c\nd '), Buffer.from([0xe9, 0xff]), Buffer.from(' f\n')]),
      ),
  },
  {
    name: 'a line over 64 MiB',
    file: at('long.txt'),
    line: 2,
    problem: /longer than/i,
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
  {
    name: 'missing model file',
    file: at('absent.lla'),
    problem: /no such file|does not exist|not found/i,
    make: () => null,
  },
  {
    name: 'empty model file',
    file: at('empty.lla'),
    problem: /empty|truncated|not an lla model/i,
    make: () => Buffer.alloc(0),
  },
  {
    name: 'not a model (an event log)',
    file: at('events-as-model.lla'),
    problem: /not an lla model/i,
    make: () => Buffer.from(goodEvents()),
  },
  {
    name: 'truncated model file',
    file: at('truncated.lla'),
    problem: /truncated|ends|short/i,
    make: (good) => good.subarray(0, Math.floor(good.length * 0.6)),
  },
  {
    name: 'damaged model file (a flipped byte)',
    file: at('damaged.lla'),
    problem: /damaged|checksum|corrupt/i,
    make: (good) => {
      const copy = Buffer.from(good);
      copy[copy.length - 40] ^= 0x5a;
      return copy;
    },
  },
  {
    name: 'future-version model file',
    file: at('future.lla'),
    problem: /format 99|upgrade/i,
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
      return [
        'train',
        input,
        '--model',
        'lda',
        '--topics',
        '3',
        '--iterations',
        '2',
        '--out',
        out,
        '--checkpoint-every',
        '1',
        ...extra,
      ];
    case 'corpus-stats':
      return ['corpus-stats', input, ...extra];
    default:
      return [command, model, input, ...extra];
  }
}

/** per command: an option value that is out of range, a negative one and one that is not a number */
const BAD_OPTIONS: Record<CommandName, { zero: string[]; negative: string[]; notNumber: string[]; name: string }> = {
  train: {
    zero: ['--topics', '0'],
    negative: ['--iterations', '-3'],
    notNumber: ['--topics', 'many'],
    name: 'topics|iterations',
  },
  eval: {
    zero: ['--particles', '0'],
    negative: ['--max-length', '-1'],
    notNumber: ['--particles', 'lots'],
    name: 'particles|max-length',
  },
  infer: { zero: ['--sweeps', '0'], negative: ['--sweeps', '-2'], notNumber: ['--sweeps', 'ten'], name: 'sweeps' },
  predict: { zero: ['--top', '0'], negative: ['--particles', '-5'], notNumber: ['--top', '1e'], name: 'top|particles' },
  'corpus-stats': {
    zero: ['--format', 'csv'],
    negative: ['--session-gap', '-5'],
    notNumber: ['--session-gap', 'soon'],
    name: 'format|session-gap',
  },
};

const cases: Case[] = [];
let counter = 0;
for (const command of COMMANDS) {
  const nextOut = () => at(`out-${command}-${counter++}.lla`);
  for (const input of badInputs) {
    const out = nextOut();
    cases.push({
      title: `${command}: ${input.name}`,
      argv: argvFor(command, input.file, out),
      names: [basename(input.file)],
      ...(input.line !== undefined ? { line: input.line } : {}),
      problem: input.problem,
      noWrite: OUT_CHECKS(out),
    });
  }
  const options = BAD_OPTIONS[command];
  for (const [label, extra] of [
    ['an out-of-range option value', options.zero],
    ['a negative option value', options.negative],
    ['a non-numeric option value', options.notNumber],
    ['an unknown flag', ['--bogus-flag']],
  ] as const) {
    const out = nextOut();
    const flag = label === 'an unknown flag' ? 'bogus-flag' : options.name;
    cases.push({
      title: `${command}: ${label} (${extra.join(' ')})`,
      argv: argvFor(command, GOOD, out, [...extra]),
      names: [],
      problem: new RegExp(`--?(${flag})`),
      noWrite: OUT_CHECKS(out),
    });
  }
  if (command !== 'corpus-stats') {
    const out = nextOut();
    cases.push({
      title: `${command}: an unknown LLA_BACKEND`,
      argv: argvFor(command, GOOD, out),
      env: { LLA_BACKEND: 'gpu' },
      names: [],
      problem: /LLA_BACKEND.*gpu|gpu.*LLA_BACKEND/,
      noWrite: OUT_CHECKS(out),
    });
  }
}
// the model-taking commands, and train --from (which reads a model too)
for (const command of ['eval', 'infer', 'predict', 'train'] as const) {
  for (const bad of badModels) {
    const out = at(`out-${command}-${counter++}.lla`);
    const argv =
      command === 'train'
        ? ['train', GOOD, '--model', 'lda', '--from', bad.file, '--iterations', '1', '--out', out]
        : argvFor(command, GOOD, out, [], bad.file);
    cases.push({
      title: `${command}: ${bad.name}`,
      argv,
      names: [basename(bad.file)],
      problem: bad.problem,
      noWrite: OUT_CHECKS(out),
    });
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
  const trained = await runCli([
    'train',
    GOOD,
    '--model',
    'lda',
    '--topics',
    '3',
    '--iterations',
    '3',
    '--out',
    MODEL,
    '--json',
  ]);
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
    assert.ok(
      message.length > 0 && message.length <= 700 && message.split('\n').length <= 3,
      `the message should be short (at most 3 lines, 700 characters)${context}`,
    );
    for (const name of item.names) assert.ok(message.includes(name), `the message should name ${name}${context}`);
    if (item.line !== undefined) {
      assert.match(
        message,
        new RegExp(`:${item.line}:|line ${item.line}\\b`),
        `the message should name line ${item.line}${context}`,
      );
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

// ---- outputs: a command never replaces what it must not, and a finished run is never lost (issue 16) ---------
// Every writer (train --out and its checkpoint, export, report, generate and --truth) is run against targets that
// are not regular files (a named pipe, a folder, a symbolic link to a pipe, a dangling link, `-`), against
// outputs that are its own inputs (also through `..` and symbolic links, and the derived names of a CSV export
// and of the checkpoint), and against destinations it cannot write. A refused command exits 2 before any work
// and leaves its folder exactly as it was: the same entries, the same kinds, the same link texts and the same
// bytes (a snapshot taken before and compared after). Failures that only show while writing (a full disk half-way
// through the second of several files, a final save that fails after training) cannot be made inside a
// temporary folder, so those cases run the command in-process with the test-only fault hook of src/io/faults.ts,
// which throws the error the file system would (ENOSPC, EACCES) at a chosen step of a chosen file.
const outputs = suite('robustness: outputs never replace what they must not, and a finished run is never lost');
const place = mkdtempSync(join(tmpdir(), 'lla-outputs-'));
const REFERENCE_MODEL = join(place, 'reference.lla');
const TRAIN = ['--model', 'lda', '--topics', '3', '--iterations', '2'];
/** `lla generate`'s flags for a corpus too small to take any time (5 sequences of 4 actions) */
const TINY_GENERATE = ['-k', '2', '--vocabulary', '10', '--sequences', '5', '--length', '4'];

/** Every entry under `dir` (recursively): its kind and, for files, a hash of its bytes; for links, the link text. */
function snapshot(dir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const relative = join(sub, name);
      const stats = lstatSync(join(dir, relative));
      if (stats.isSymbolicLink()) entries[relative] = `link -> ${readlinkSync(join(dir, relative))}`;
      else if (stats.isFIFO()) entries[relative] = 'named pipe';
      else if (stats.isDirectory()) {
        entries[relative] = 'folder';
        walk(relative);
      } else
        entries[relative] = `file ${createHash('sha256')
          .update(readFileSync(join(dir, relative)))
          .digest('hex')}`;
    }
  };
  walk('');
  return entries;
}

/** The folder's files named like temporaries of the atomic writer (`<name>.<pid>.<hex>.tmp`). */
function temporariesIn(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter((name) => /\.\d+\.[0-9a-f]+\.tmp$/.test(name));
}

/** True when `path` holds an lla model file (its first bytes are those of the reference model). */
function isModelFile(path: string): boolean {
  const bytes = readFileSync(path);
  return bytes.length > 64 && bytes.subarray(0, 8).equals(readFileSync(REFERENCE_MODEL).subarray(0, 8));
}

interface OutputCase {
  title: string;
  /** makes the case's files in its own folder `dir` */
  setup: (dir: string) => void;
  argv: (dir: string) => string[];
  /** run with the case folder as the working directory (for relative paths) */
  inFolder?: boolean;
  /** the expected exit code; 2 cases must also leave the folder unchanged and refuse before any work */
  code: number;
  /** what stderr must say */
  problem: RegExp;
  /** extra checks on the folder after the run */
  check?: (dir: string, run: Run) => void;
  dir?: string;
  before?: Record<string, string>;
  result?: Run;
}

const inputEvents = (dir: string, name = 'in.tsv') => writeFileSync(join(dir, name), goodEvents());
const copyModel = (dir: string, name = 'm.lla') => writeFileSync(join(dir, name), readFileSync(REFERENCE_MODEL));
const pipe = (path: string) => execFileSync('mkfifo', [path]);

const outputCases: OutputCase[] = [
  // 1. targets that are not regular files
  {
    title: 'train --out a named pipe: refused before any work, the pipe left as it is',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => {
      inputEvents(dir);
      pipe(join(dir, 'out.lla'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
  },
  {
    title: 'train: the checkpoint <out>.ckpt a named pipe: refused before any work',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => {
      inputEvents(dir);
      pipe(join(dir, 'out.lla.ckpt'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla'), '--checkpoint-every', '1'],
  },
  {
    title: 'train --out a symbolic link to a named pipe (as /proc/self/fd/1 is): refused',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => {
      inputEvents(dir);
      pipe(join(dir, 'pipe'));
      symlinkSync('pipe', join(dir, 'out.lla'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
  },
  {
    title: 'train --out a dangling symbolic link: refused, the link kept',
    code: 2,
    problem: /symbolic link.*does not exist/,
    setup: (dir) => {
      inputEvents(dir);
      symlinkSync('nowhere/model.lla', join(dir, 'out.lla'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
  },
  {
    title: "generate --out - (standard output): refused, no file named '-'",
    code: 2,
    problem: /standard output/,
    inFolder: true,
    setup: () => undefined,
    argv: () => ['generate', '--out', '-', '-k', '2', '--vocabulary', '10', '--sequences', '5', '--length', '4'],
  },
  {
    title: 'export --out a named pipe: refused',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => {
      copyModel(dir);
      pipe(join(dir, 'e.json'));
    },
    argv: (dir) => ['export', join(dir, 'm.lla'), '--out', join(dir, 'e.json')],
  },
  {
    title: 'export CSV: one derived name (<out>.topics.csv) a named pipe: refused, no other file written',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => {
      copyModel(dir);
      pipe(join(dir, 'e.topics.csv'));
    },
    argv: (dir) => ['export', join(dir, 'm.lla'), '--out', join(dir, 'e.csv')],
  },
  {
    title: 'report --out a named pipe: refused',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => {
      copyModel(dir);
      pipe(join(dir, 'r.html'));
    },
    argv: (dir) => ['report', join(dir, 'm.lla'), '--out', join(dir, 'r.html')],
  },
  {
    title: 'generate --out a named pipe: refused',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => pipe(join(dir, 'c.txt')),
    argv: (dir) => ['generate', '--out', join(dir, 'c.txt'), ...TINY_GENERATE],
  },
  {
    title: 'generate --truth a named pipe: refused, the corpus not written either',
    code: 2,
    problem: /named pipe/,
    setup: (dir) => pipe(join(dir, 't.json')),
    argv: (dir) => ['generate', '--out', join(dir, 'c.txt'), '--truth', join(dir, 't.json'), ...TINY_GENERATE],
  },
  {
    title: 'train --out a symbolic link to a regular file: writes the file it points to, keeps the link',
    code: 0,
    problem: /saved/,
    setup: (dir) => {
      inputEvents(dir);
      mkdirSync(join(dir, 'real'));
      writeFileSync(join(dir, 'real', 'model.lla'), 'an older model');
      symlinkSync(join('real', 'model.lla'), join(dir, 'out.lla'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
    check: (dir) => {
      assert.is(readlinkSync(join(dir, 'out.lla')), join('real', 'model.lla'), 'the link is kept');
      assert.ok(isModelFile(join(dir, 'real', 'model.lla')), 'the file the link points to holds the model');
      assert.equal(readdirSync(join(dir, 'real')), ['model.lla'], 'no temporary left beside it');
    },
  },
  {
    title: 'export --out a symbolic link to a regular file: writes the file it points to, keeps the link',
    code: 0,
    problem: /wrote/,
    setup: (dir) => {
      copyModel(dir);
      mkdirSync(join(dir, 'real'));
      writeFileSync(join(dir, 'real', 'e.json'), 'an older export');
      symlinkSync(join('real', 'e.json'), join(dir, 'e.json'));
    },
    argv: (dir) => ['export', join(dir, 'm.lla'), '--out', join(dir, 'e.json')],
    check: (dir) => {
      assert.is(readlinkSync(join(dir, 'e.json')), join('real', 'e.json'));
      assert.is(JSON.parse(readFileSync(join(dir, 'real', 'e.json'), 'utf8')).format, 'lla-export');
    },
  },
  // 2. outputs that are the command's own inputs
  {
    title: 'train same.tsv --out same.tsv: refused, the input kept',
    code: 2,
    problem: /same file/,
    setup: (dir) => inputEvents(dir, 'same.tsv'),
    argv: (dir) => ['train', join(dir, 'same.tsv'), ...TRAIN, '--out', join(dir, 'same.tsv')],
  },
  {
    title: 'train x/in.tsv --out ./x/../x/in.tsv (another spelling): refused',
    code: 2,
    problem: /same file/,
    inFolder: true,
    setup: (dir) => {
      mkdirSync(join(dir, 'x'));
      inputEvents(join(dir, 'x'));
    },
    argv: () => ['train', 'x/in.tsv', ...TRAIN, '--out', './x/../x/in.tsv'],
  },
  {
    title: 'train --test x/t.tsv --out x/t.tsv: refused',
    code: 2,
    problem: /same file.*--test|--test.*same file/,
    setup: (dir) => {
      inputEvents(dir);
      inputEvents(dir, 't.tsv');
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--test', join(dir, 't.tsv'), '--out', join(dir, 't.tsv')],
  },
  {
    title: 'train --stopwords x/s.txt --out x/s.txt: refused',
    code: 2,
    problem: /same file.*--stopwords|--stopwords.*same file/,
    setup: (dir) => {
      inputEvents(dir);
      writeFileSync(join(dir, 's.txt'), 'a1\n');
    },
    argv: (dir) => [
      'train',
      join(dir, 'in.tsv'),
      ...TRAIN,
      '--stopwords',
      join(dir, 's.txt'),
      '--out',
      join(dir, 's.txt'),
    ],
  },
  {
    title: 'train --from m.lla --out m.lla: refused',
    code: 2,
    problem: /same file.*--from|--from.*same file/,
    setup: (dir) => {
      inputEvents(dir);
      copyModel(dir);
    },
    argv: (dir) => [
      'train',
      join(dir, 'in.tsv'),
      '--model',
      'lda',
      '--iterations',
      '2',
      '--from',
      join(dir, 'm.lla'),
      '--out',
      join(dir, 'm.lla'),
    ],
  },
  {
    title: 'train: the checkpoint <out>.ckpt is the training file: refused',
    code: 2,
    problem: /checkpoint.*same file|same file.*checkpoint/,
    setup: (dir) => inputEvents(dir, 'ev.tsv.ckpt'),
    argv: (dir) => [
      'train',
      join(dir, 'ev.tsv.ckpt'),
      '--format',
      'events',
      ...TRAIN,
      '--out',
      join(dir, 'ev.tsv'),
      '--checkpoint-every',
      '1',
    ],
  },
  {
    title: 'train --out a symbolic link to the training file: refused',
    code: 2,
    problem: /same file/,
    setup: (dir) => {
      inputEvents(dir);
      symlinkSync('in.tsv', join(dir, 'out.lla'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
  },
  {
    title: 'export x/m.phi.csv --out x/m.csv: a derived name is the model: refused, nothing written',
    code: 2,
    problem: /same file/,
    setup: (dir) => copyModel(dir, 'm.phi.csv'),
    argv: (dir) => ['export', join(dir, 'm.phi.csv'), '--out', join(dir, 'm.csv')],
  },
  {
    title: 'export --out a symbolic link to the model: refused',
    code: 2,
    problem: /same file/,
    setup: (dir) => {
      copyModel(dir);
      symlinkSync('m.lla', join(dir, 'e.json'));
    },
    argv: (dir) => ['export', join(dir, 'm.lla'), '--out', join(dir, 'e.json')],
  },
  {
    title: 'report --out a symbolic link to the model: refused',
    code: 2,
    problem: /same file/,
    setup: (dir) => {
      copyModel(dir);
      symlinkSync('m.lla', join(dir, 'r.html'));
    },
    argv: (dir) => ['report', join(dir, 'm.lla'), '--out', join(dir, 'r.html')],
  },
  {
    title: 'generate --out c.txt --truth ./c.txt: refused, nothing written',
    code: 2,
    problem: /same file/,
    inFolder: true,
    setup: () => undefined,
    argv: () => ['generate', '--out', 'c.txt', '--truth', './c.txt', ...TINY_GENERATE],
  },
  // 3. a destination that cannot be written is found before the first iteration
  {
    title: 'train --out in a missing folder: refused before any work',
    code: 2,
    problem: /does not exist/,
    setup: (dir) => inputEvents(dir),
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'no', 'such', 'out.lla')],
  },
  {
    title: 'train --out a folder: refused before any work',
    code: 2,
    problem: /is a folder/,
    setup: (dir) => {
      inputEvents(dir);
      mkdirSync(join(dir, 'out.lla'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
  },
  {
    title: 'train: <out>.ckpt a folder: refused before any work, an error object as the --json result',
    code: 2,
    problem: /is a folder/,
    setup: (dir) => {
      inputEvents(dir);
      mkdirSync(join(dir, 'out.lla.ckpt'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla'), '--json'],
  },
  {
    title: 'train: <out>.ckpt a symbolic link: refused before any work (lla writes and deletes its checkpoint itself)',
    code: 2,
    problem: /checkpoint.*is a symbolic link/,
    setup: (dir) => {
      inputEvents(dir);
      writeFileSync(join(dir, 'other'), 'a file of the user');
      symlinkSync('other', join(dir, 'out.lla.ckpt'));
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla'), '--overwrite-checkpoint'],
  },
  // 5. a checkpoint left by an interrupted run
  {
    title: 'train --out with a stale <out>.ckpt and no --resume: refused before any work, the checkpoint kept',
    code: 2,
    problem:
      /a checkpoint of an interrupted run exists: --resume to continue it, or --overwrite-checkpoint to start over/,
    setup: (dir) => {
      inputEvents(dir);
      writeFileSync(join(dir, 'out.lla.ckpt'), 'the checkpoint of an interrupted run');
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
  },
  {
    title: 'train --resume --overwrite-checkpoint: refused (they contradict each other)',
    code: 2,
    problem: /--resume.*--overwrite-checkpoint/,
    setup: (dir) => {
      inputEvents(dir);
      writeFileSync(join(dir, 'out.lla.ckpt'), 'the checkpoint of an interrupted run');
    },
    argv: (dir) => [
      'train',
      join(dir, 'in.tsv'),
      ...TRAIN,
      '--out',
      join(dir, 'out.lla'),
      '--resume',
      '--overwrite-checkpoint',
    ],
  },
  {
    title: 'train --overwrite-checkpoint starts over: the model saved, the stale checkpoint gone',
    code: 0,
    problem: /saved/,
    setup: (dir) => {
      inputEvents(dir);
      writeFileSync(join(dir, 'out.lla.ckpt'), 'the checkpoint of an interrupted run');
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla'), '--overwrite-checkpoint'],
    check: (dir) => {
      assert.ok(isModelFile(join(dir, 'out.lla')));
      assert.not.ok(existsSync(join(dir, 'out.lla.ckpt')), 'the old checkpoint is removed once the new model is saved');
    },
  },
];

// a read-only folder stops root only through the fault hook (root ignores permissions): the real case for others
if (process.getuid?.() !== 0 && process.platform !== 'win32') {
  outputCases.push({
    title: 'train --out in a read-only folder: refused before any work',
    code: 2,
    problem: /no permission/,
    setup: (dir) => {
      inputEvents(dir);
      mkdirSync(join(dir, 'locked'));
      chmodSync(join(dir, 'locked'), 0o555);
    },
    argv: (dir) => ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'locked', 'out.lla')],
  });
}

function runIn(argv: string[], cwd: string): Promise<Run> {
  return runHelper(argv, baseEnv, cwd);
}

/**
 * Runs `lla ...argv` in this process with `fault` as the file-fault hook. main and the hook are imported
 * dynamically: uvu loads this file as CommonJS, and main loads its commands with import(), so a static import
 * here would set the hook on a second copy of src/io/faults.ts that the commands never see.
 */
async function runWithFault(argv: string[], fault: (target: string, step: string) => void): Promise<Run> {
  const { main } = await import('../src/cli/main.js');
  const { fileFaults } = await import('../src/io/faults.js');
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) => ({
    write: (chunk: string | Uint8Array) => {
      append(String(chunk));
      return true;
    },
  });
  fileFaults.inject = fault;
  try {
    const code = await main(argv, {
      stdout: sink((text) => {
        stdout += text;
      }) as unknown as NodeJS.WritableStream,
      stderr: sink((text) => {
        stderr += text;
      }) as unknown as NodeJS.WritableStream,
      interactive: false,
      env: baseEnv,
      signal: new AbortController().signal,
    });
    return { code, stdout, stderr };
  } finally {
    fileFaults.inject = undefined;
  }
}

/** An error as the file system reports it (what a full disk or a read-only folder throws). */
function fileSystemError(code: 'ENOSPC' | 'EACCES', target: string): Error {
  return Object.assign(new Error(`${code}: injected by the test, write '${target}'`), { code });
}

/** A fresh folder for one in-process case. */
let faultCounter = 0;
function faultFolder(): string {
  const dir = join(place, `fault-${faultCounter++}`);
  mkdirSync(dir);
  return dir;
}

outputs.before(async () => {
  writeFileSync(join(place, 'good.tsv'), goodEvents());
  const trained = await runIn(['train', join(place, 'good.tsv'), ...TRAIN, '--out', REFERENCE_MODEL], place);
  assert.is(trained.code, 0, `training the reference model failed: ${trained.stderr}`);
  outputCases.forEach((item, index) => {
    item.dir = join(place, `case-${index}`);
    mkdirSync(item.dir);
    item.setup(item.dir);
    item.before = snapshot(item.dir);
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (next < outputCases.length) {
        const item = outputCases[next++];
        item.result = await runIn(item.argv(item.dir!), item.inFolder ? item.dir! : place);
      }
    }),
  );
});

outputs.after(() => {
  for (const item of outputCases) {
    if (item.dir && existsSync(join(item.dir, 'locked'))) chmodSync(join(item.dir, 'locked'), 0o755);
  }
  rmSync(place, { recursive: true, force: true });
});

for (const item of outputCases) {
  outputs(item.title, () => {
    const run = item.result!;
    const context = `\n$ lla ${item.argv(item.dir!).join(' ')}\nexit ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout.slice(0, 400)}`;
    assert.is(run.code, item.code, `exit code${context}`);
    assert.not.match(run.stderr, /^\s+at |unexpected failure|bug in lla/im, `a crash report${context}`);
    assert.match(item.code === 0 ? run.stdout : run.stderr, item.problem, `the message (${item.problem})${context}`);
    assert.equal(temporariesIn(item.dir!), [], `temporaries left${context}`);
    if (item.code === 2) {
      assert.equal(snapshot(item.dir!), item.before, `the folder changed: something was written or replaced${context}`);
      assert.not.match(run.stderr, /iteration 1\/|training sequences/, `refused only after work had started${context}`);
      const stdout = run.stdout.trim();
      if (item.argv(item.dir!).includes('--json')) {
        assert.is(stdout.split('\n').length, 1, `one line on stdout with --json${context}`);
        const error = JSON.parse(stdout);
        assert.is(error.exitCode, 2, context);
        assert.match(error.error, item.problem, context);
      } else {
        assert.is(stdout, '', `nothing on stdout${context}`);
      }
    }
    item.check?.(item.dir!, run);
  });
}

outputs('train --help documents --overwrite-checkpoint and how links are written', async () => {
  const run = await runIn(['train', '--help'], place);
  assert.is(run.code, 0);
  assert.match(run.stdout, /--overwrite-checkpoint/);
  assert.match(run.stdout, /symbolic link/);
});

outputs(
  'train --out in a read-only folder (EACCES when the probe file is created): refused before any work',
  async () => {
    const dir = faultFolder();
    inputEvents(dir);
    const before = snapshot(dir);
    const run = await runWithFault(
      ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla')],
      (target, step) => {
        if (step === 'probe') throw fileSystemError('EACCES', target);
      },
    );
    assert.is(run.code, 2, run.stderr);
    assert.match(run.stderr, /no permission to create files in/);
    assert.not.match(run.stderr, /iteration 1\/|training sequences/, 'refused before any work');
    assert.equal(snapshot(dir), before);
  },
);

outputs(
  'train: the final save fails (disk full): the model goes to <out>.fallback, exit 1, the old model kept',
  async () => {
    const dir = faultFolder();
    inputEvents(dir);
    writeFileSync(join(dir, 'out.lla'), 'the previous model');
    const run = await runWithFault(
      ['train', join(dir, 'in.tsv'), ...TRAIN, '--out', join(dir, 'out.lla'), '--json'],
      (target, step) => {
        if (basename(target) === 'out.lla' && step === 'write') throw fileSystemError('ENOSPC', target);
      },
    );
    assert.is(run.code, 1, run.stderr);
    const fallback = join(dir, 'out.lla.fallback');
    assert.ok(
      run.stderr.includes(join(dir, 'out.lla')) && run.stderr.includes(fallback),
      `stderr names both files: ${run.stderr}`,
    );
    assert.match(run.stderr, /disk .*full/);
    assert.ok(isModelFile(fallback), 'the fallback holds the model');
    assert.is(readFileSync(join(dir, 'out.lla'), 'utf8'), 'the previous model', 'the old model is kept');
    const lines = run.stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]);
    assert.is(result.out, fallback, 'the result says where the model is');
    assert.ok(Number.isFinite(result.heldOutPerplexity), 'the result object is complete');
    assert.equal(temporariesIn(dir), []);
  },
);

outputs(
  'train: the final save and its fallback fail: stderr says where the last checkpoint is, which is kept',
  async () => {
    const dir = faultFolder();
    inputEvents(dir);
    const run = await runWithFault(
      [
        'train',
        join(dir, 'in.tsv'),
        '--model',
        'lda',
        '--topics',
        '3',
        '--iterations',
        '3',
        '--checkpoint-every',
        '1',
        '--out',
        join(dir, 'out.lla'),
      ],
      (target, step) => {
        if (step === 'write' && !target.endsWith('.ckpt')) throw fileSystemError('ENOSPC', target);
      },
    );
    assert.is(run.code, 1, run.stderr);
    const checkpoint = join(dir, 'out.lla.ckpt');
    assert.ok(run.stderr.includes(checkpoint), `stderr names the checkpoint: ${run.stderr}`);
    assert.match(run.stderr, /--resume/);
    assert.match(run.stderr, /iteration 2\b/, 'says which iteration the checkpoint holds');
    assert.ok(isModelFile(checkpoint), 'the checkpoint is kept');
    assert.equal(Object.keys(snapshot(dir)).sort(), ['in.tsv', 'out.lla.ckpt']);
  },
);

outputs(
  'export CSV: the disk fills while writing the second file: no file written or replaced, no temporaries',
  async () => {
    const dir = faultFolder();
    copyModel(dir);
    writeFileSync(join(dir, 'e.phi.csv'), 'an earlier export');
    const before = snapshot(dir);
    const run = await runWithFault(['export', join(dir, 'm.lla'), '--out', join(dir, 'e.csv')], (target, step) => {
      if (basename(target) === 'e.topics.csv' && step === 'write') throw fileSystemError('ENOSPC', target);
    });
    assert.is(run.code, 2, run.stderr);
    assert.match(run.stderr, /e\.topics\.csv.*disk .*full/);
    assert.equal(snapshot(dir), before, 'every file as before');
    assert.is(run.stdout, '');
  },
);

outputs(
  'generate --out --truth: the disk fills while writing the truth: the corpus is not written either',
  async () => {
    const dir = faultFolder();
    const run = await runWithFault(
      ['generate', '--out', join(dir, 'c.txt'), '--truth', join(dir, 't.json'), ...TINY_GENERATE],
      (target, step) => {
        if (basename(target) === 't.json' && step === 'write') throw fileSystemError('ENOSPC', target);
      },
    );
    assert.is(run.code, 2, run.stderr);
    assert.match(run.stderr, /t\.json.*disk .*full/);
    assert.equal(readdirSync(dir), []);
  },
);

outputs(
  'generate --out x.tsv writes an events file (user<TAB>time<TAB>action) that reads back as the same sequences',
  async () => {
    const dir = faultFolder();
    const common = ['-k', '3', '--vocabulary', '30', '--sequences', '40', '--length', '12', '--seed', '4'];
    const [tsv, jsonl] = await Promise.all([
      runIn(['generate', '--out', join(dir, 'x.tsv'), ...common], dir),
      runIn(['generate', '--out', join(dir, 'x.jsonl'), ...common], dir),
    ]);
    assert.is(tsv.code, 0, tsv.stderr);
    assert.is(jsonl.code, 0, jsonl.stderr);
    const lines = readFileSync(join(dir, 'x.tsv'), 'utf8').trim().split('\n');
    assert.is(lines[0], 'user\ttime\taction');
    for (const line of lines.slice(1)) assert.match(line, /^s\d+\t\d+\ta\d+$/);
    const { readDocuments } = await import('../src/corpus/documents.js');
    const events = await readDocuments(join(dir, 'x.tsv'));
    const reference = await readDocuments(join(dir, 'x.jsonl'));
    assert.equal(events.ids, reference.ids);
    const strings = (raw: typeof events) => Array.from(raw.tokens, (token) => raw.tokenStrings[token]);
    assert.equal(strings(events), strings(reference));
    assert.equal(Array.from(events.offsets), Array.from(reference.offsets));
  },
);

outputs.run();
