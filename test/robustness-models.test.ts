// Model files that lie (issue 16 item 10): a file whose checksum is valid but whose content is inconsistent is
// refused on load, on both kernel backends alike, with exit 2 and "malformed model: ..." naming the file, never
// a stack trace or a number computed from it. Each bad file is a good model edited in one place and written
// again through the container code (src/io/format-write.ts), so that its checksum is right and only the edit is
// wrong; the good model rewritten the same way without an edit loads, so the edits are what the checks catch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendName } from '../src/kernels/types.js';
import { readModelFile } from '../src/io/format-read.js';
import { writeModelFile } from '../src/io/format-write.js';
import type { ModelFileContents } from '../src/io/format.js';
import { runCli as runHelper, type CliRun } from './helpers/cli.js';

const BACKENDS: BackendName[] = (process.env.LLA_TEST_BACKENDS?.split(',') as BackendName[] | undefined) ?? [
  'native',
  'wasm',
];
const folder = mkdtempSync(join(tmpdir(), 'lla-models-'));
const at = (name: string) => join(folder, name);
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.LLA_BACKEND;
const runCli = (argv: string[], extra: NodeJS.ProcessEnv = {}) => runHelper(argv, { ...env, ...extra });

type Header = Record<string, any>;
interface Edit {
  title: string;
  /** which good model to start from */
  from: 'lda' | 'lla';
  /** changes the header or the sections in place */
  edit: (header: Header, sections: ModelFileContents['sections']) => void;
  problem: RegExp;
}

/** index of the first row with at least two entries (so that its topics can be put out of order) */
function rowWithTwo(offsets: Int32Array): number {
  for (let w = 0; w + 1 < offsets.length; w++) if (offsets[w + 1] - offsets[w] >= 2) return w;
  throw new Error('no row with two entries in the test model');
}

const edits: Edit[] = [
  {
    title: 'a vocabulary one action longer than the count rows',
    from: 'lda',
    problem: /vocabulary holds \d+ actions but the count table has rows for/,
    edit: (header, sections) => {
      header.vocabulary.push('an extra action');
      delete sections.vocabularyCounts;
    },
  },
  {
    title: 'a vocabulary one action shorter than the count rows',
    from: 'lda',
    problem: /vocabulary holds \d+ actions but the count table has rows for/,
    edit: (header, sections) => {
      header.vocabulary.pop();
      delete sections.vocabularyCounts;
    },
  },
  {
    title: 'a duplicate vocabulary entry',
    from: 'lda',
    problem: /vocabulary entries 0 and 1 are both/,
    edit: (header) => {
      header.vocabulary[1] = header.vocabulary[0];
    },
  },
  {
    title: 'a vocabulary entry that is not a string',
    from: 'lda',
    problem: /vocabulary entry 2 is number, not a string/,
    edit: (header) => {
      header.vocabulary[2] = 7;
    },
  },
  {
    title: 'row offsets that decrease',
    from: 'lda',
    problem: /row offsets decrease at action/,
    edit: (_, sections) => {
      const offsets = sections.rowOffsets as Int32Array;
      const w = rowWithTwo(offsets);
      offsets[w + 1] = offsets[w] - 1 < 0 ? offsets[w + 2] + 1 : offsets[w] - 1;
    },
  },
  {
    title: 'row offsets that do not start at 0',
    from: 'lda',
    problem: /row offsets start at 1, not 0/,
    edit: (_, sections) => {
      (sections.rowOffsets as Int32Array)[0] = 1;
    },
  },
  {
    title: 'a count of 2^31 - 1 (the native kernel refused it, WASM took it)',
    from: 'lda',
    problem: /is 2147483647, outside 1\.\.2147483646/,
    edit: (_, sections) => {
      (sections.rowCounts as Int32Array)[0] = 2 ** 31 - 1;
    },
  },
  {
    title: 'zeroed topic totals (eval reported perplexity 0.017)',
    from: 'lda',
    problem: /topic 0's total is 0 but its counts sum to/,
    edit: (_, sections) => {
      (sections.topicTotals as Int32Array).fill(0);
    },
  },
  {
    title: 'a topic total one more than its counts',
    from: 'lda',
    problem: /topic 1's total is \d+ but its counts sum to/,
    edit: (_, sections) => {
      (sections.topicTotals as Int32Array)[1] += 1;
    },
  },
  {
    title: "topics out of order within an action's row",
    from: 'lda',
    problem: /not strictly ascending/,
    edit: (_, sections) => {
      const w = rowWithTwo(sections.rowOffsets as Int32Array);
      const topics = sections.rowTopics as Int32Array;
      const e = (sections.rowOffsets as Int32Array)[w];
      [topics[e], topics[e + 1]] = [topics[e + 1], topics[e]];
    },
  },
  {
    title: 'a header non-zero count that disagrees with the table',
    from: 'lda',
    problem: /header counts \d+ non-zeros/,
    edit: (header) => {
      header.nonZeros += 1;
    },
  },
  {
    title: 'vocabulary counts of the wrong length',
    from: 'lda',
    problem: /vocabulary counts hold \d+ values for \d+ actions/,
    edit: (_, sections) => {
      sections.vocabularyCounts = (sections.vocabularyCounts as Int32Array).slice(1);
    },
  },
  {
    title: 'a trajectory entry without its topics',
    from: 'lda',
    problem: /trajectory 0 lacks its id, actions or topics/,
    edit: (header) => {
      delete header.trajectories[0].topics;
    },
  },
  {
    title: 'a trajectory action outside the vocabulary',
    from: 'lda',
    problem: /trajectory 0 holds an action outside the vocabulary/,
    edit: (header) => {
      header.trajectories[0].actions[0] = header.vocabulary.length;
    },
  },
  {
    title: 'a history entry without its iteration',
    from: 'lda',
    problem: /history entry 0 has no iteration number/,
    edit: (header) => {
      delete header.history[0].iteration;
    },
  },
  {
    title: 'a history entry whose run of --lookahead auto is not true or false',
    from: 'lda',
    problem: /history entry 0's lookahead is not true or false/,
    edit: (header) => {
      header.history[0].lookahead = 'yes';
    },
  },
  {
    title: 'settings outside the kernel limits (particles 65537)',
    from: 'lda',
    problem: /invalid settings: .*particles .*65536/,
    edit: (header) => {
      header.settings.particles = 65537;
    },
  },
  {
    title: 'a NaN LSTM weight (predict printed "probability": null)',
    from: 'lla',
    problem: /LSTM weight 3 is NaN/,
    edit: (_, sections) => {
      (sections.lstm as Float32Array)[3] = NaN;
    },
  },
  {
    title: 'an infinite LSTM weight',
    from: 'lla',
    problem: /LSTM weight 5 is Infinity/,
    edit: (_, sections) => {
      (sections.lstm as Float32Array)[5] = Infinity;
    },
  },
  {
    title: 'a NaN in the transition matrix',
    from: 'lla',
    problem: /transition 0 -> 0 is NaN, not a probability/,
    edit: (_, sections) => {
      (sections.transitions as Float64Array)[0] = NaN;
    },
  },
];

interface Run {
  title: string;
  file: string;
  backend: BackendName;
  command: string;
  result?: CliRun;
  problem?: RegExp;
}

const runs: Run[] = [];
edits.forEach((item, index) => {
  for (const backend of BACKENDS) {
    // eval runs a kernel; predict reads the model the same way and would print from it
    runs.push({
      title: `[${backend}] ${item.title}`,
      file: at(`bad-${index}.lla`),
      backend,
      command: index % 2 === 0 ? 'eval' : 'predict',
      problem: item.problem,
    });
  }
});
for (const from of ['lda', 'lla'] as const) {
  for (const backend of BACKENDS)
    runs.push({
      title: `[${backend}] the ${from} model rewritten unedited loads`,
      file: at(`same-${from}.lla`),
      backend,
      command: 'eval',
    });
}

const test = suite('robustness: model files that lie are refused on load, exit 2 "malformed model", both backends');

test.before(async () => {
  const corpus = at('small.txt');
  const made = await runCli([
    'generate',
    '--out',
    corpus,
    '-k',
    '3',
    '--vocabulary',
    '30',
    '--sequences',
    '120',
    '--length',
    '15',
    '--seed',
    '2',
  ]);
  assert.is(made.code, 0, made.stderr);
  const trained = await Promise.all([
    runCli(['train', corpus, '--model', 'lda', '-k', '3', '-n', '2', '--out', at('lda.lla')]),
    runCli([
      'train',
      corpus,
      '-k',
      '3',
      '-n',
      '3',
      '--hidden',
      '4',
      '--embedding',
      '4',
      '--lstm-tokens',
      '300',
      '--out',
      at('lla.lla'),
    ]),
  ]);
  for (const run of trained) assert.is(run.code, 0, run.stderr);
  const rewrite = (from: 'lda' | 'lla', file: string, edit?: Edit['edit']) => {
    const contents = readModelFile(at(`${from}.lla`));
    const header = structuredClone(contents.header) as Header;
    const sections = Object.fromEntries(
      Object.entries(contents.sections).map(([name, section]) => [name, section.slice()]),
    );
    edit?.(header, sections);
    writeModelFile(file, { kind: contents.kind, header, sections });
  };
  edits.forEach((item, index) => rewrite(item.from, at(`bad-${index}.lla`), item.edit));
  rewrite('lda', at('same-lda.lla'));
  rewrite('lla', at('same-lla.lla'));
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < runs.length) {
        const item = runs[next++];
        item.result = await runCli([item.command, item.file, corpus, '--json'], { LLA_BACKEND: item.backend });
      }
    }),
  );
});

test.after(() => rmSync(folder, { recursive: true, force: true }));

for (const item of runs) {
  test(item.title, () => {
    const run = item.result!;
    const context = `\n$ lla ${item.command} ${item.file}\nexit ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout.slice(0, 300)}`;
    if (!item.problem) {
      assert.is(run.code, 0, context);
      return;
    }
    assert.is(run.code, 2, `exit code${context}`);
    assert.not.match(run.stderr, /^\s+at |unexpected failure|bug in lla/m, `a crash report${context}`);
    assert.match(run.stderr, /malformed model: /, context);
    assert.match(run.stderr, item.problem, context);
    assert.ok(run.stderr.includes(item.file), `names the file${context}`);
    const lines = run.stdout.trim().split('\n');
    assert.is(lines.length, 1, `only the error object on stdout${context}`);
    assert.is(JSON.parse(lines[0]).exitCode, 2, context);
  });
}

test.run();
