// Runs that should not start, and small ways to lose a run or mislead (issue 16 items 7-9 and the smaller list):
// option values outside the kernel limits (KERNEL_LIMITS) exit 2 before any work, on both backends, naming the
// real bound; `--from` refuses options that contradict the saved model and applies the run's own; `--demo`
// scales its defaults with -n; and the smaller cases: --test with --holdout, the "no training tokens" message
// under --from, the header rule of events files, control characters in plain-text output, formula-like CSV
// cells, command names that are Object.prototype keys, and mstepShare after a resume.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendName } from '../src/kernels/types.js';
import { lastJson, projectRoot, runCli as runHelper, type CliRun } from './helpers/cli.js';
import { rejects } from './helpers/rejects.js';
import { DEFAULT_SETTINGS } from '../src/train/settings.js';

const BACKENDS: BackendName[] = (process.env.LLA_TEST_BACKENDS?.split(',') as BackendName[] | undefined) ?? [
  'native',
  'wasm',
];
const folder = mkdtempSync(join(tmpdir(), 'lla-options-'));
const at = (name: string) => join(folder, name);
const baseEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete baseEnv.LLA_BACKEND;
delete baseEnv.LLA_TF_BACKEND;
const runCli = (argv: string[], env: NodeJS.ProcessEnv = {}) => runHelper(argv, { ...baseEnv, ...env });

const SMALL = at('small.txt');
const MODEL = at('lda.lla');
const LDA = ['--model', 'lda', '-k', '3', '-n', '2'];
/** the small LSTM settings */
const LLA = ['-k', '3', '-n', '3', '--hidden', '4', '--embedding', '4', '--lstm-tokens', '300'];

/** Runs `cases` two at a time (each a real CLI run), filling in each case's result. */
async function runAll<T extends { argv: string[]; env?: NodeJS.ProcessEnv; result?: CliRun }>(
  cases: T[],
): Promise<void> {
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < cases.length) {
        const item = cases[next++];
        item.result = await runCli(item.argv, item.env);
      }
    }),
  );
}

function contextOf(argv: string[], run: CliRun): string {
  return `\n$ lla ${argv.join(' ')}\nexit ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout.slice(0, 400)}`;
}

/** A refusal: exit 2, one short message matching `problem`, no crash, nothing on stdout, no work started. */
function assertRefused(argv: string[], run: CliRun, problem: RegExp): void {
  const context = contextOf(argv, run);
  assert.is(run.code, 2, `exit code${context}`);
  assert.not.match(run.stderr, /^\s+at |unexpected failure|bug in lla/m, `a crash report${context}`);
  assert.match(run.stderr, problem, `the message (${problem})${context}`);
  assert.ok(run.stderr.trim().split('\n').length <= 3, `a short message${context}`);
  assert.not.match(run.stderr, /training sequences|iteration \d+\//, `refused only after work had started${context}`);
  assert.is(run.stdout, '', `nothing on stdout${context}`);
}

// ---- 7. options outside the kernel limits -----------------------------------------------------------------------

interface LimitCase {
  title: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  problem: RegExp;
  result?: CliRun;
}

const limitCases: LimitCase[] = [];
for (const backend of BACKENDS) {
  const env = { LLA_BACKEND: backend };
  const refused: Array<[string, string[], RegExp]> = [
    [
      'train --particles 65537 (CLI allowed 100,000, the kernels 65,536)',
      ['train', SMALL, ...LLA, '--particles', '65537'],
      /--particles .*65536.*65537/,
    ],
    [
      'train --beta 1e308 (failed inside the alias build)',
      ['train', SMALL, ...LDA, '--beta', '1e308'],
      /--beta .*1e\+100.*1e308/,
    ],
    ['train --alpha 1e-300', ['train', SMALL, ...LDA, '--alpha', '1e-300'], /--alpha .*1e-100/],
    [
      'train --sequence-smoothing 1e101',
      ['train', SMALL, ...LDA, '--sequence-smoothing', '1e101'],
      /--sequence-smoothing .*1e\+100/,
    ],
    ['train --topics 1048577', ['train', SMALL, ...LDA, '--topics', '1048577'], /--topics .*1048576/],
    ['train --hidden 4097', ['train', SMALL, ...LLA, '--hidden', '4097'], /--hidden .*4096/],
    ['train --mh-steps 1001', ['train', SMALL, ...LDA, '--mh-steps', '1001'], /--mh-steps .*1000/],
    ['train --threads 1025', ['train', SMALL, ...LDA, '--threads', '1025'], /--threads .*1024/],
    [
      'train --seed 9007199254740992 names the real bound (not "at least 0")',
      ['train', SMALL, ...LDA, '--seed', '9007199254740992'],
      /--seed .*9007199254740991.*9007199254740992/,
    ],
    ['eval --particles 65537', ['eval', MODEL, SMALL, '--particles', '65537'], /--particles .*65536/],
    ['predict --particles 65537', ['predict', MODEL, SMALL, '--particles', '65537'], /--particles .*65536/],
    ['infer --threads 1025', ['infer', MODEL, SMALL, '--threads', '1025'], /--threads .*1024/],
    ['bench --beta 1e308', ['bench', SMALL, '--beta', '1e308', '-i', '1'], /--beta .*1e\+100/],
    ['bench --alpha 0.0', ['bench', SMALL, '--alpha', '0.0', '-i', '1'], /--alpha .*1e-100/],
  ];
  for (const [title, argv, problem] of refused) limitCases.push({ title: `[${backend}] ${title}`, argv, env, problem });
}

const limits = suite('robustness: options outside the kernel limits exit 2 before any work, on both backends');

limits.before(async () => {
  const made = await runCli([
    'generate',
    '--out',
    SMALL,
    '-k',
    '4',
    '--vocabulary',
    '40',
    '--sequences',
    '200',
    '--length',
    '20',
    '--seed',
    '3',
  ]);
  assert.is(made.code, 0, made.stderr);
  const trained = await runCli(['train', SMALL, ...LDA, '--out', MODEL]);
  assert.is(trained.code, 0, trained.stderr);
  await runAll(limitCases);
});

for (const item of limitCases) limits(item.title, () => assertRefused(item.argv, item.result!, item.problem));

for (const backend of BACKENDS) {
  limits(
    `[${backend}] the bounds themselves work: --particles 65536 trains and evaluates, --threads 257 evaluates`,
    async () => {
      const env = { LLA_BACKEND: backend };
      const [trained, evaluated] = await Promise.all([
        runCli(['train', SMALL, '--model', 'lda', '-k', '3', '-n', '1', '--particles', '65536', '--json'], env),
        runCli(['eval', MODEL, SMALL, '--threads', '257', '--json'], env),
      ]);
      assert.is(trained.code, 0, trained.stderr);
      assert.ok(Number.isFinite(lastJson(trained).heldOutPerplexity));
      assert.is(evaluated.code, 0, evaluated.stderr);
      assert.ok(Number.isFinite(lastJson(evaluated).perplexity));
    },
  );
}

limits('the API refuses settings outside the kernel limits when the model is created (validateSettings)', async () => {
  const { LlaModel } = await import('../src/model/model.js');
  await rejects(() => LlaModel.create({ particles: 65537 }), /particles .*65536/);
  await rejects(() => LlaModel.create({ beta: 1e308 }), /beta .*1e\+100/);
  await rejects(() => LlaModel.create({ threads: 1025 }), /threads .*1024/);
  await rejects(() => LlaModel.create({ seed: 2 ** 53 }), /seed .*9007199254740991/);
});

limits.after(() => undefined);
limits.run();

// ---- 8. --from and the saved model; 9. --demo -n; the smaller cases ------------------------------------------------

const runs = suite('robustness: --from, --demo, and the smaller ways to mislead');

runs('train --from refuses options that contradict the saved model, naming each', async () => {
  const argv = [
    'train',
    SMALL,
    '--from',
    MODEL,
    '--model',
    'lla',
    '-k',
    '8',
    '--hidden',
    '8',
    '--max-vocab',
    '3',
    '--out',
    at('from.lla'),
  ];
  const run = await runCli(argv);
  assertRefused(argv, run, /--from/);
  for (const flag of ['--model lla', '--topics 8', '--hidden 8', '--max-vocab']) {
    assert.ok(run.stderr.includes(flag), `names ${flag}${contextOf(argv, run)}`);
  }
  assert.not.ok(existsSync(at('from.lla')));
});

runs("train --from accepts the saved values and applies the run's own options (here --particles)", async () => {
  const out = at('continued.lla');
  const run = await runCli([
    'train',
    SMALL,
    '--from',
    MODEL,
    '--model',
    'lda',
    '-k',
    '3',
    '-n',
    '1',
    '--particles',
    '7',
    '--out',
    out,
  ]);
  assert.is(run.code, 0, run.stderr);
  const evaluated = await runCli(['eval', out, SMALL, '--json']);
  assert.is(evaluated.code, 0, evaluated.stderr);
  assert.is(lastJson(evaluated).particles, 7, 'the continued model keeps the --particles it was given');
});

runs("train --from with fewer --iterations than the model's start had sweeps: the continued model loads", async () => {
  // an lla model that started from 2 hmm sweeps, continued for 1 iteration: the saved settings once kept the start's
  // sweeps beside --iterations 1, which no model may have, and the finished model would not load
  const first = at('started.lla');
  const lla = ['--model', 'lla', '-k', '3', '--hidden', '8', '--embedding', '4', '--lstm-tokens', '500'];
  const trained = await runCli(['train', SMALL, ...lla, '-n', '4', '--init', 'hmm:2', '--out', first]);
  assert.is(trained.code, 0, trained.stderr);
  const out = at('continued-short.lla');
  const run = await runCli(['train', SMALL, '--from', first, '-n', '1', '--out', out]);
  assert.is(run.code, 0, run.stderr);
  const evaluated = await runCli(['eval', out, SMALL, '--json']);
  assert.is(evaluated.code, 0, evaluated.stderr);
  assert.ok(Number.isFinite(lastJson(evaluated).perplexity));
});

runs('train --from: "no training tokens" names the training file and the model', async () => {
  writeFileSync(at('other.txt'), 'x y z\nz y x\n');
  const argv = ['train', at('other.txt'), '--from', MODEL, '-n', '1'];
  const run = await runCli(argv);
  assertRefused(argv, run, /no training tokens/);
  assert.ok(run.stderr.includes('other.txt') && run.stderr.includes('lda.lla'), contextOf(argv, run));
});

runs('train --test with --holdout: refused (both choose the held-out data)', async () => {
  const argv = ['train', SMALL, ...LDA, '--test', SMALL, '--holdout', '0.2'];
  assertRefused(argv, await runCli(argv), /--holdout.*--test|--test.*--holdout/);
});

runs("train --demo -n 5: the demo's hmm initialisation scales with -n as the plain default does", async () => {
  const run = await runCli([
    'train',
    '--demo',
    '-n',
    '5',
    '-k',
    '3',
    '--hidden',
    '4',
    '--embedding',
    '4',
    '--lstm-tokens',
    '300',
    '--json',
    '--top',
    '0',
  ]);
  assert.is(run.code, 0, run.stderr);
  const records = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((record) => 'iteration' in record);
  const hmm = Math.round((5 * DEFAULT_SETTINGS.initHmmSweeps) / DEFAULT_SETTINGS.iterations);
  assert.ok(hmm >= 1, 'the default initialisation has hmm sweeps');
  assert.equal(
    records.map((record) => record.mode),
    [...Array(hmm).fill('hmm'), ...Array(5 - hmm).fill('lla')],
    `round(5 x ${DEFAULT_SETTINGS.initHmmSweeps}/${DEFAULT_SETTINGS.iterations}) = ${hmm} hmm sweeps`,
  );
});

runs(
  'events: line 1 with an unreadable time is an error like line 2, unless it is a header (named columns)',
  async () => {
    writeFileSync(at('first-line.tsv'), 'u1\tyesterday\tc\nu1\t10\ta\nu1\t11\tb\n');
    const argv = ['corpus-stats', at('first-line.tsv')];
    const bad = await runCli(argv);
    assertRefused(argv, bad, /first-line\.tsv:1: unreadable time 'yesterday'/);
    assert.match(bad.stderr, /header/, 'says when line 1 counts as a header');
    for (const [name, header] of [
      ['plain.tsv', 'user\ttime\taction'],
      ['named.tsv', 'user_id\tTimestamp\tevent'],
      ['date.tsv', 'who\tdate\twhat'],
    ]) {
      writeFileSync(at(name), `${header}\nu1\t10\ta\nu1\t11\tb\n`);
      const run = await runCli(['corpus-stats', at(name), '--json']);
      assert.is(run.code, 0, `${header}: ${run.stderr}`);
      assert.is(lastJson(run).tokens, 2, `${header} is a header`);
    }
  },
);

/** actions with control characters (JSON lines can hold any string) */
const STRANGE = ['line\nbreak', 'tab\there', 'bell\u0007', 'plain'];

for (const backend of BACKENDS) {
  runs(
    `[${backend}] predict and infer: control characters in actions and ids are escaped in plain-text output`,
    async () => {
      const env = { LLA_BACKEND: backend };
      const lines = Array.from({ length: 40 }, (_, d) =>
        JSON.stringify({
          id: d === 0 ? 'id\nwith newline' : `s${d}`,
          tokens: Array.from({ length: 6 }, (_, t) => STRANGE[(d + t) % STRANGE.length]),
        }),
      );
      writeFileSync(at('strange.jsonl'), `${lines.join('\n')}\n`);
      const model = at(`strange-${backend}.lla`);
      const trained = await runCli(
        ['train', at('strange.jsonl'), '--model', 'lda', '-k', '2', '-n', '2', '--min-count', '1', '--out', model],
        env,
      );
      assert.is(trained.code, 0, trained.stderr);
      for (const command of ['predict', 'infer']) {
        const run = await runCli(
          [command, model, at('strange.jsonl'), ...(command === 'predict' ? ['-n', '4'] : [])],
          env,
        );
        assert.is(run.code, 0, run.stderr);
        const output = run.stdout.trimEnd().split('\n');
        assert.is(output.length, 40, `${command}: one line per sequence\n${run.stdout}`);
        for (const line of output)
          assert.is(line.split('\t').length, 2, `${command}: one tab per line: ${JSON.stringify(line)}`);
        assert.ok(
          output[0].startsWith('id\\nwith newline\t'),
          `${command}: the id escaped: ${JSON.stringify(output[0])}`,
        );
        assert.not.match(run.stdout, /\u0007/, `${command}: no raw control character`);
        if (command === 'predict')
          assert.match(run.stdout, /line\\nbreak .*tab\\there|tab\\there .*line\\nbreak|bell\\u0007/);
      }
    },
  );
}

runs('export CSV: cells that a spreadsheet would run as a formula (=, +, -, @) start with an apostrophe', async () => {
  const actions = ['=1+1', '+cmd', '-2', '@SUM(A1)', "'quoted", 'safe'];
  const lines = Array.from({ length: 30 }, (_, d) =>
    JSON.stringify({ id: `s${d}`, tokens: actions.map((_, t) => actions[(d + t) % actions.length]) }),
  );
  writeFileSync(at('formulas.jsonl'), `${lines.join('\n')}\n`);
  const model = at('formulas.lla');
  const trained = await runCli([
    'train',
    at('formulas.jsonl'),
    '--model',
    'lda',
    '-k',
    '2',
    '-n',
    '2',
    '--min-count',
    '1',
    '--out',
    model,
  ]);
  assert.is(trained.code, 0, trained.stderr);
  for (const layout of ['dense', 'sparse']) {
    const out = at(`formulas-${layout}.csv`);
    const run = await runCli(['export', model, '--out', out, '--phi', layout]);
    assert.is(run.code, 0, run.stderr);
    const cells = [
      readFileSync(out.replace(/\.csv$/, '.phi.csv'), 'utf8'),
      readFileSync(out.replace(/\.csv$/, '.topics.csv'), 'utf8'),
    ]
      .join('\n')
      .split(/[,\n]/);
    for (const action of actions) {
      const guarded = action === 'safe' ? action : `'${action}`;
      assert.ok(cells.includes(guarded), `${layout}: ${action} written as ${guarded}`);
      if (action !== 'safe') assert.not.ok(cells.includes(action), `${layout}: ${action} written unguarded`);
    }
    // numbers stay numbers: a negative value is never guarded
    assert.not.ok(
      cells.some((cell) => /^'-?\d/.test(cell) && cell !== "'-2"),
      `${layout}: a number was guarded`,
    );
  }
  const help = await runCli(['export', '--help']);
  assert.match(help.stdout, /apostrophe/, 'export --help says how formula-like cells are written');
  assert.match(readFileSync(join(projectRoot, 'README.md'), 'utf8'), /formula/);
});

runs(
  'command names that are keys of every object (toString, constructor, __proto__) are unknown commands, not crashes',
  async () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const run = await runCli([name]);
      assertRefused([name], run, new RegExp(`unknown command '${name}'`));
    }
  },
);

runs(
  'after a resume, mstepShare = mstepSeconds / trainingSeconds, both over every iteration of the model',
  async () => {
    // the first run is stopped after its first iteration (the signal aborted at its progress record): in this
    // process, so that the stop comes at a known point; it leaves the checkpoint that the second run resumes
    const { main } = await import('../src/cli/main.js');
    const out = at('resumed.lla');
    const argv = ['train', SMALL, ...LLA, '--init', 'lda:1', '--out', out, '--checkpoint-every', '1', '--json'];
    const controller = new AbortController();
    let stdout = '';
    const sink = (append: (text: string) => void) => ({
      write: (chunk: string | Uint8Array) => {
        append(String(chunk));
        return true;
      },
    });
    const code = await main(argv, {
      stdout: sink((text) => {
        stdout += text;
        if (/"iteration":1\b/.test(stdout)) controller.abort();
      }) as unknown as NodeJS.WritableStream,
      stderr: sink(() => undefined) as unknown as NodeJS.WritableStream,
      interactive: false,
      env: baseEnv,
      signal: controller.signal,
    });
    assert.is(code, 130, stdout);
    assert.ok(existsSync(`${out}.ckpt`));
    const resumed = await runCli([...argv, '--resume']);
    assert.is(resumed.code, 0, resumed.stderr);
    const result = lastJson(resumed);
    // the abort lands during the iteration after the first record (or at its end): the checkpoint holds what ran
    const ranBefore = Math.max(
      ...stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .filter((record) => 'iteration' in record)
        .map((record) => record.iteration as number),
    );
    assert.ok(ranBefore >= 1 && ranBefore < 3, stdout);
    assert.is(result.resumedIterations, ranBefore);
    assert.ok(result.mstepSeconds > 0, 'the lla iterations train the LSTM');
    assert.ok(result.trainingSeconds >= result.estepSeconds + result.mstepSeconds - 1e-9, JSON.stringify(result));
    assert.is(result.mstepShare, result.mstepSeconds / result.trainingSeconds);
    assert.ok(result.mstepShare > 0 && result.mstepShare <= 1);
  },
);

runs.after(() => rmSync(folder, { recursive: true, force: true }));
runs.run();
