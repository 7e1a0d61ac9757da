// Repeat blocks end to end (`repeats: 'blocks'`, src/train/repeats.ts), on both kernel backends. The data come from
// a known block model: a first-order corpus of `lla generate` whose every action is followed by repeats of itself,
// each with probability REPEAT_RATE. Trained with blocks, lla fits that rate, recovers the topics, comes near the
// generating block model's own perplexity and far below the same lla over tokens; its predictive is a distribution
// whose ranking agrees with the filter's scores; it saves and loads to the same predictions; infer() gives every
// token of a run its block's topic.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlaModel, type ModelOptions, type TrainSummary } from '../src/model/model.js';
import { actionName, generateSynthetic } from '../src/generate/synthetic.js';
import { truthChunks } from '../src/generate/output.js';
import { parseTruth, recoveryReport, trueLogLikelihood } from '../src/eval/recovery.js';
import { holdoutSplit } from '../src/train/split.js';
import { sequenceCorpus } from '../src/train/data.js';
import {
  collapseRepeats,
  expandBlockTopics,
  fitRepeatTable,
  fitRunLengthTable,
  repeatProbability,
  runLengthBefore,
} from '../src/train/repeats.js';
import { readModelFile } from '../src/io/format-read.js';
import { writeModelFile } from '../src/io/format-write.js';
import { mulberry32 } from './helpers/mulberry32.js';
import { rejects } from './helpers/rejects.js';
import { lastJson, runCli } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-repeat-blocks-'));
const REPEAT_RATE = 0.4;
const K = 5;

const generated = generateSynthetic({
  topics: K,
  vocabulary: 150,
  sequences: 500,
  length: 24,
  seed: 3,
  dynamics: 'first-order',
});
const truth = parseTruth(JSON.parse(Array.from(truthChunks(generated)).join('')), 'the generated truth');
// each generated action, then geometric repeats of it (a run), drawn from a fixed stream
const random = mulberry32(11);
const sequences = Array.from({ length: generated.offsets.length - 1 }, (_, d) => {
  const sequence: string[] = [];
  for (let i = generated.offsets[d]; i < generated.offsets[d + 1]; i++) {
    const action = actionName(generated.tokens[i]);
    sequence.push(action);
    while (random() < REPEAT_RATE) sequence.push(action);
  }
  return sequence;
});
const split = holdoutSplit(sequences.length, 0.1, 1);
const train = Array.from(split.train, (d) => sequences[d]);
const test = Array.from(split.test, (d) => sequences[d]);

const SETTINGS: ModelOptions = {
  model: 'lla',
  topics: K,
  iterations: 8,
  initHmmSweeps: 4,
  hidden: 16,
  embedding: 8,
  lstmTokens: 8_000,
  batch: 16,
  bptt: 20,
  learningRate: 0.02,
  threads: 1,
  seed: 1,
  warn: () => undefined,
};

const collapseSuite = suite('repeat blocks: collapsing and the repeat table');

collapseSuite('collapsing keeps every sequence and each run once, and maps blocks back to their first token', () => {
  const tokens = Int32Array.of(4, 4, 4, 2, 2, 4, 7, 7, 1, 1, 3);
  const offsets = Int32Array.of(0, 5, 5, 8, 11); // the third run of 4 starts a new sequence; one empty sequence
  const collapsed = collapseRepeats({ tokens, offsets });
  assert.equal(Array.from(collapsed.tokens), [4, 2, 4, 7, 1, 3]);
  assert.equal(Array.from(collapsed.offsets), [0, 2, 2, 4, 6]);
  assert.equal(Array.from(collapsed.source), [0, 3, 5, 6, 8, 10]);
  const topics = expandBlockTopics({ tokens, offsets }, collapsed, Int32Array.of(0, 1, 2, 3, 4, 0));
  assert.equal(Array.from(topics), [0, 0, 0, 1, 1, 2, 3, 3, 4, 4, 0]);
});

collapseSuite('the repeat table is the smoothed share of repeats after each action, strictly inside (0, 1)', () => {
  // after 0: 3 transitions, 2 repeats; after 1: 1 transition, 0 repeats; 2 never leads anywhere
  const tokens = Int32Array.of(0, 0, 0, 1, 2, 1, 1);
  const offsets = Int32Array.of(0, 5, 7);
  const { repeat, statistics } = fitRepeatTable({ tokens, offsets }, 3, 2);
  assert.equal(statistics, { tokens: 7, blocks: 4, transitions: 5, repeats: 3, runLengthOdds: [] });
  const rate = (3 + 1) / (5 + 2);
  assert.ok(Math.abs(repeat[0] - (2 + 2 * rate) / (3 + 2)) < 1e-15);
  assert.ok(Math.abs(repeat[1] - (1 + 2 * rate) / (2 + 2)) < 1e-15); // 1 -> 2 and 1 -> 1 in the second sequence
  assert.ok(Math.abs(repeat[2] - rate) < 1e-15, 'an action never left takes the corpus-wide rate');
  const none = fitRepeatTable({ tokens: Int32Array.of(0, 1, 2), offsets: Int32Array.of(0, 3) }, 3).repeat;
  assert.ok(
    none.every((r) => r > 0 && r < 1),
    'no repeat seen: still inside (0, 1)',
  );
});

collapseSuite('the run-length table fits how a run goes on with its length, for every action alike', () => {
  // runs go on with probability 0.2 after one action, 0.5 after two and 0.8 after three or more, whatever the action
  const goOn = [0.2, 0.5, 0.8];
  const random = mulberry32(5);
  const tokens: number[] = [];
  const offsets = [0];
  for (let d = 0; d < 3000; d++) {
    for (let block = 0; block < 6; block++) {
      const action = Math.floor(random() * 4);
      if (tokens.length > offsets[d] && tokens[tokens.length - 1] === action) continue;
      tokens.push(action);
      for (let run = 1; random() < goOn[Math.min(run, 3) - 1]; run++) tokens.push(action);
    }
    offsets.push(tokens.length);
  }
  const corpus = { tokens: Int32Array.from(tokens), offsets: Int32Array.from(offsets) };
  // what the data say after runs of 1, 2, 3 and 4+ (above goOn: a sequence's last run ends unseen, its repeats only)
  const seen = [0, 0, 0, 0];
  const repeated = [0, 0, 0, 0];
  for (let d = 0; d + 1 < offsets.length; d++) {
    for (let i = offsets[d] + 1; i < offsets[d + 1]; i++) {
      const column = Math.min(runLengthBefore(tokens, offsets[d], i), 4) - 1;
      seen[column]++;
      if (tokens[i] === tokens[i - 1]) repeated[column]++;
    }
  }
  const { repeat: byAction } = fitRepeatTable(corpus, 4);
  const { repeat, runLengthOdds } = fitRunLengthTable(corpus, byAction, 4);
  assert.is(repeat.length, 4 * 4);
  assert.is(runLengthOdds.length, 4);
  for (let w = 0; w < 4; w++) {
    for (let run = 1; run <= 4; run++) {
      const fitted = repeatProbability(repeat, 4, w, run);
      const empirical = repeated[run - 1] / seen[run - 1];
      assert.ok(Math.abs(fitted - empirical) < 0.02, `action ${w}, run ${run}: ${fitted} against ${empirical}`);
      assert.ok(Math.abs(fitted - goOn[Math.min(run, 3) - 1]) < 0.07, `action ${w}, run ${run}: ${fitted}`);
    }
  }
  // a run length seen a few times and always ending keeps a probability a held-out repeat can live with
  const rare = { tokens: Int32Array.of(0, 0, 1, 2, 2, 3, 1, 1, 0), offsets: Int32Array.of(0, 9) };
  const sparse = fitRunLengthTable(rare, fitRepeatTable(rare, 4).repeat, 4).repeat;
  assert.ok(repeatProbability(sparse, 4, 1, 2) > 0.02, `after a run of 2: ${repeatProbability(sparse, 4, 1, 2)}`);
  // the run so far, as the evaluations read it
  assert.equal(
    [0, 1, 2, 3, 4, 5].map((position) => runLengthBefore(Int32Array.of(7, 3, 3, 3, 2), 0, position)),
    [0, 1, 1, 2, 3, 1],
  );
});

collapseSuite.run();

for (const backend of ['native', 'wasm'] as const) {
  const run = suite(`repeat blocks (${backend} kernels)`);
  let blocks: LlaModel;
  let blockSummary: TrainSummary;
  let tokenSummary: TrainSummary;

  run.before(async () => {
    blocks = await LlaModel.create({ ...SETTINGS, backend });
    blockSummary = await blocks.train(train, { heldOut: test });
    const tokens = await LlaModel.create({ ...SETTINGS, repeats: 'tokens', backend });
    tokenSummary = await tokens.train(train, { heldOut: test });
    assert.is(tokens.repeat, null, 'a tokens model has no repeat table');
    tokens.dispose();
  });
  run.after(() => blocks.dispose());

  run('runs on the backend asked for, with repeat blocks by default', () => {
    assert.is(blocks.backend, backend);
    assert.is(blocks.settings.repeats, 'blocks');
    assert.ok(blockSummary.heldOut!.repeatBlocks, 'the held-out evaluation scored blocks');
    assert.is(tokenSummary.heldOut!.repeatBlocks, false);
  });

  run("fits the generator's repeat rate, the same after runs of every length", () => {
    const words = blocks.vocabulary.words;
    const counts = blocks.vocabulary.counts!;
    const V = words.length;
    // the actions seen often enough for their own share to dominate the prior; runs of 1 to 3 actions
    for (const run of [1, 2, 3]) {
      let sum = 0;
      let n = 0;
      for (let w = 0; w < V; w++) {
        if (counts[w] >= 50) {
          sum += repeatProbability(blocks.repeat!, V, w, run);
          n++;
        }
      }
      assert.ok(n > 20, `${n} frequent actions`);
      const mean = sum / n;
      assert.ok(
        Math.abs(mean - REPEAT_RATE) < 0.05,
        `run ${run}: mean repeat probability ${mean} against ${REPEAT_RATE}`,
      );
    }
  });

  run('recovers the topics and comes near the generating block model, far below lla over tokens', () => {
    const heldOut = sequenceCorpus(test, blocks.vocabulary);
    const report = recoveryReport(truth, blocks.vocabulary.words, null, blocks.phi());
    assert.ok(report.meanTopicTotalVariation! < 0.2, `mean matched TV ${report.meanTopicTotalVariation}`);
    // the generator's block model: the true topic model over the blocks, r for each repeat, 1 - r before each new
    // block (a new block equal to the previous action has probability ~1/V here and is counted as a repeat)
    const collapsed = collapseRepeats(heldOut);
    const trueBlocks = trueLogLikelihood(truth, blocks.vocabulary.words, collapsed);
    const repeats = heldOut.tokens.length - collapsed.tokens.length;
    const newBlocks = collapsed.tokens.length - (collapsed.offsets.length - 1);
    const logLikelihood =
      trueBlocks.logLikelihood + repeats * Math.log(REPEAT_RATE) + newBlocks * Math.log(1 - REPEAT_RATE);
    const generating = Math.exp(-logLikelihood / heldOut.tokens.length);
    const learned = blockSummary.heldOut!.perplexity;
    assert.ok(
      learned < 1.1 * generating,
      `blocks ${learned.toFixed(2)} against the generating ${generating.toFixed(2)}`,
    );
    assert.ok(learned > 0.95 * generating, `blocks ${learned.toFixed(2)} cannot beat the generating model by much`);
    const overTokens = tokenSummary.heldOut!.perplexity;
    assert.ok(learned < 0.85 * overTokens, `blocks ${learned.toFixed(2)} against tokens ${overTokens.toFixed(2)}`);
  });

  run('the predictive is a distribution, and its ranking agrees with the filter', () => {
    // a history that ends inside a run, so that the repeat's probability is that of a run of two or more
    const history = test.find((sequence) => sequence.length > 10 && sequence[8] === sequence[9])!.slice(0, 10);
    const session = blocks.session();
    for (const action of history) session.push(action);
    const V = blocks.vocabulary.size;
    const next = session.next(V);
    const total = next.reduce((sum, entry) => sum + entry.probability, 0);
    // the filter hands over its mixture in float32: the sum is 1 to about 1e-8
    assert.ok(Math.abs(total - 1) < 1e-6, `the next-action probabilities sum to ${total}`);
    const last = history[history.length - 1];
    const repeatEntry = next.find((entry) => entry.action === last)!;
    const run = runLengthBefore(history, 0, history.length);
    const r = repeatProbability(blocks.repeat!, V, blocks.vocabulary.id(last), run);
    assert.ok(run >= 2);
    assert.ok(Math.abs(repeatEntry.probability - r) < 1e-12, `the repeat after a run of ${run}`);
    // the filter's score of each candidate after the same history (a fresh session replays it)
    for (const entry of [next[0], next[1], repeatEntry, next[V - 1]]) {
      const replay = blocks.session();
      for (const action of history) replay.push(action);
      const logProbability = replay.push(entry.action)!;
      assert.ok(
        Math.abs(Math.exp(logProbability) / entry.probability - 1) < 1e-5,
        `${entry.action}: filter ${Math.exp(logProbability)}, ranking ${entry.probability}`,
      );
    }
  });

  run('saves the repeat table and loads to the same predictions', async () => {
    const path = join(folder, `${backend}.lla`);
    await blocks.save(path);
    const file = readModelFile(path);
    assert.ok(file.sections.repeat instanceof Float64Array, 'the repeat section');
    const loaded = await LlaModel.load(path, { backend, warn: () => undefined });
    try {
      assert.is(loaded.settings.repeats, 'blocks');
      assert.equal(Array.from(loaded.repeat!), Array.from(blocks.repeat!));
      assert.is(await loaded.perplexity(test), await blocks.perplexity(test));
      assert.equal(loaded.predictNext(test[1].slice(0, 9), 5), blocks.predictNext(test[1].slice(0, 9), 5));
      assert.equal(
        await loaded.predictNextMany([test[2].slice(0, 7), test[3].slice(0, 3)], 5),
        await blocks.predictNextMany([test[2].slice(0, 7), test[3].slice(0, 3)], 5),
      );
    } finally {
      loaded.dispose();
    }
    // a file whose settings say blocks but whose table is gone is refused, naming the problem
    const damaged = join(folder, `${backend}-no-table.lla`);
    const { repeat: _dropped, ...rest } = file.sections;
    void _dropped;
    writeModelFile(damaged, { kind: 'model', header: file.header, sections: rest });
    await rejects(() => LlaModel.load(damaged, { backend }), /holds no repeat table/);
  });

  run('predictNextMany ranks as a session does, and infer() gives each run its block topic', async () => {
    const histories = [test[4].slice(0, 10), test[5].slice(0, 6)];
    const many = await blocks.predictNextMany(histories, 5);
    for (let d = 0; d < histories.length; d++) {
      const session = blocks.session({ sequenceIndex: d });
      for (const action of histories[d]) session.push(action);
      const single = session.next(5);
      assert.equal(
        many[d].map((entry) => entry.action),
        single.map((entry) => entry.action),
      );
    }
    const topics = await blocks.infer(test.slice(0, 20));
    let runs = 0;
    test.slice(0, 20).forEach((sequence, d) => {
      for (let i = 1; i < sequence.length; i++) {
        if (sequence[i] === sequence[i - 1]) {
          runs++;
          assert.is(topics[d][i], topics[d][i - 1], `sequence ${d} position ${i}: a repeat keeps its block's topic`);
        }
      }
    });
    assert.ok(runs > 20, `${runs} repeats checked`);
  });

  run.run();
}

const cli = suite('repeat blocks on the command line');
const corpusFile = join(folder, 'runs.txt');
const SMALL_RUN = ['--topics', '4', '--iterations', '3', '--init', 'hmm:1', '--hidden', '8', '--embedding', '4'];
const CLI_RUN = [...SMALL_RUN, '--lstm-tokens', '2000', '--particles', '8', '--threads', '1', '--json'];

cli.before(() => writeFileSync(corpusFile, `${sequences.map((sequence) => sequence.join(' ')).join('\n')}\n`));

cli('train reports the blocks by default, nothing with --repeats tokens, and saves the setting', async () => {
  const out = join(folder, 'cli-blocks.lla');
  const blocksRun = await runCli(['train', corpusFile, ...CLI_RUN, '--out', out]);
  assert.is(blocksRun.code, 0, blocksRun.stderr);
  const stats = lastJson(blocksRun).repeatBlocks;
  assert.ok(stats.repeats > 0 && stats.blocks === stats.tokens - stats.repeats, JSON.stringify(stats));
  assert.ok(Math.abs(stats.repeats / stats.transitions - REPEAT_RATE) < 0.03, JSON.stringify(stats));
  const text = await runCli(['train', corpusFile, ...CLI_RUN.filter((flag) => flag !== '--json')]);
  assert.is(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /repeat blocks +[\d,]+ training tokens in [\d,]+ runs of one action; \d+\.\d% of transitions/,
  );
  const tokensRun = await runCli(['train', corpusFile, ...CLI_RUN, '--repeats', 'tokens']);
  assert.is(tokensRun.code, 0, tokensRun.stderr);
  assert.is(lastJson(tokensRun).repeatBlocks, null);
  const loaded = await LlaModel.load(out, { warn: () => undefined });
  assert.is(loaded.settings.repeats, 'blocks');
  loaded.dispose();
  // --from keeps what the model is: its counts are of blocks
  const from = await runCli(['train', corpusFile, '--from', out, '--repeats', 'tokens', '-n', '1']);
  assert.is(from.code, 2, from.stderr);
  assert.match(from.stderr, /--repeats tokens \(the model has blocks\)/);
});

cli('a bad --repeats is a usage error that names the choices', async () => {
  const run = await runCli(['train', corpusFile, '--repeats', 'runs']);
  assert.is(run.code, 2);
  assert.match(run.stderr, /--repeats must be one of blocks, tokens; got 'runs'/);
});

cli.run();

process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
