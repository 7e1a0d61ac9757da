/**
 * The kernel engine of the LSTM M-step (src/lstm/kernel-trainer.ts) against the TF.js trainer it replaces: from the
 * same weights, seed and corpus, one Adam step lands within 1e-5 of TF.js's weights and 20 steps within 1e-3; a
 * trainer state crosses from the kernel engine to TF.js and back and the next step is the same; trained alone on
 * the true topic sequences of a synthetic corpus (`lla generate --truth`), the kernel engine recovers the K x K
 * topic transitions, and TF.js does at the same budget. On the native and the WASM backend, each asserted to be
 * the backend that loaded.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initTf } from '../src/lstm/tf-backend.js';
import { SequenceModel } from '../src/lstm/sequence-model.js';
import { createTopicLstm, topicLstmShape } from '../src/lstm/topic-lstm.js';
import { KernelSequenceTrainer, KernelTopicLstm } from '../src/lstm/kernel-trainer.js';
import { SeededRandom } from '../src/lstm/seeded-random.js';
import { packParameters, type NetworkShape } from '../src/lstm/weights.js';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, nextTopicDistribution, type SyntheticCorpus } from '../src/generate/synthetic.js';
import { runCli } from './helpers/cli.js';
import { topicTransitionMatrix } from '../src/eval/transitions.js';
import type { Kernel, LstmInputPath } from '../src/kernels/types.js';
import {
  glorotScaleParameters,
  kernelBackend,
  largestDifference,
  randomSequences,
  skippedNotice,
} from './helpers/lstm-fixtures.js';

const backend = kernelBackend;
const skipped = (name: string, why: string) => skippedNotice('kernel trainer test', name, why);
const randomParameters = glorotScaleParameters;

/** A corpus over `symbols` inputs whose target depends on the previous input (learnable), sequences of 4..40. */
function corpus(symbols: number, outputs: number, sequences: number, seed: number) {
  const random = new SeededRandom(seed);
  const { offsets, inputs } = randomSequences(random, sequences, 4, 37, symbols);
  const targets = new Int32Array(inputs.length);
  for (let d = 0; d < sequences; d++) {
    for (let t = offsets[d]!; t < offsets[d + 1]!; t++) {
      targets[t] = t === offsets[d] ? 0 : random.uniform() < 0.8 ? inputs[t - 1]! % outputs : random.below(outputs);
    }
  }
  return { inputs, targets, offsets };
}

interface Variant {
  name: 'lla' | 'word-lla';
  shape: NetworkShape;
  path: LstmInputPath;
}

const VARIANTS: Variant[] = [
  { name: 'lla', shape: topicLstmShape('lla', 12, 40, 24, 8), path: 'table' },
  { name: 'word-lla', shape: topicLstmShape('word-lla', 12, 40, 24, 8), path: 'gather' },
];
const BATCH = 16;
const BPTT = 10;
const LEARNING_RATE = 0.01;

// ---------------------------------------------------------------------------------------------------------
const adam = suite('kernel engine vs TF.js: Adam steps from the same state');

adam.before(async () => {
  await initTf({ backend: 'wasm' });
});

for (const name of ['native', 'wasm'] as const) {
  adam(`${name}: one step within 1e-5 of TF.js's weights, 20 steps within 1e-3 (lla and word-lla)`, async () => {
    const kernel = await backend(name);
    if (typeof kernel === 'string') return skipped(name, kernel);
    for (const variant of VARIANTS) {
      const data = corpus(variant.shape.inputSymbols - 1, variant.shape.outputs, 60, 3);
      const parameters = randomParameters(variant.shape, 9);
      const options = { shape: variant.shape, learningRate: LEARNING_RATE, seed: 17, parameters };
      const reference = await SequenceModel.create({ ...options, tfBackend: 'wasm' });
      const trainer = new KernelSequenceTrainer({ ...options, kernel, threads: 2, inputPath: variant.path });
      try {
        const args = { ...data, bptt: BPTT, batch: BATCH };
        const tokens = BPTT * BATCH;
        const first = await trainer.train({ ...args, tokenBudget: tokens });
        const firstReference = await reference.train({ ...args, tokenBudget: tokens });
        assert.is(first.windows, 1);
        assert.is(firstReference.windows, 1);
        assert.ok(
          Math.abs(first.meanLoss - firstReference.meanLoss) < 1e-5,
          `${variant.name}: first loss ${first.meanLoss} vs ${firstReference.meanLoss}`,
        );
        const moved = largestDifference(packParameters(parameters), trainer.packedParameters());
        assert.ok(moved > 0.5 * LEARNING_RATE, `${variant.name}: the step moved the weights by ${moved}`);
        const one = largestDifference(trainer.packedParameters(), packParameters(await reference.getParameters()));
        assert.ok(one < 1e-5, `${name} ${variant.name}: after one step the weights differ by ${one}`);
        const later = await trainer.train({ ...args, tokenBudget: 19 * tokens });
        const laterReference = await reference.train({ ...args, tokenBudget: 19 * tokens });
        assert.is(later.windows, 19);
        const twenty = largestDifference(trainer.packedParameters(), packParameters(await reference.getParameters()));
        assert.ok(twenty < 1e-3, `${name} ${variant.name}: after 20 steps the weights differ by ${twenty}`);
        assert.ok(
          Math.abs(later.meanLoss - laterReference.meanLoss) < 1e-3,
          `${variant.name}: losses ${later.meanLoss} vs ${laterReference.meanLoss}`,
        );
        assert.ok(
          later.meanLoss < first.meanLoss,
          `${variant.name}: the loss falls (${first.meanLoss} -> ${later.meanLoss})`,
        );
      } finally {
        reference.dispose();
      }
    }
  });
}

adam.run();

// ---------------------------------------------------------------------------------------------------------
const states = suite('kernel engine vs TF.js: trainer states cross engines');

states.before(async () => {
  await initTf({ backend: 'wasm' });
});

for (const name of ['native', 'wasm'] as const) {
  states(`${name}: kernel -> TrainerState -> TF.js -> TrainerState -> kernel gives the same next steps`, async () => {
    const kernel = await backend(name);
    if (typeof kernel === 'string') return skipped(name, kernel);
    const variant = VARIANTS[0]!;
    const data = corpus(variant.shape.inputSymbols - 1, variant.shape.outputs, 60, 4);
    const args = { ...data, bptt: BPTT, batch: BATCH };
    const tokens = BPTT * BATCH;
    const options = { shape: variant.shape, learningRate: LEARNING_RATE, seed: 5 };
    const first = new KernelSequenceTrainer({ ...options, kernel });
    await first.train({ ...args, tokenBudget: 7 * tokens });
    const saved = await first.trainerState();
    assert.is(saved.adam?.steps, 7);
    assert.ok(saved.scheduler !== null && saved.adamMoments.length === 2 * first.packedParameters().length);
    // TF.js takes over from the kernel engine's weights and state
    const reference = await SequenceModel.create({ ...options, tfBackend: 'wasm', parameters: first.getParameters() });
    try {
      await reference.setTrainerState(saved);
      const fromKernel = await first.train({ ...args, tokenBudget: tokens });
      const fromReference = await reference.train({ ...args, tokenBudget: tokens });
      assert.ok(
        Math.abs(fromKernel.meanLoss - fromReference.meanLoss) < 1e-5,
        `the same window: losses ${fromKernel.meanLoss} vs ${fromReference.meanLoss}`,
      );
      const step = largestDifference(first.packedParameters(), packParameters(await reference.getParameters()));
      assert.ok(step < 1e-5, `${name}: the step after the hand-over differs by ${step}`);
      // and back: a new kernel trainer continues from TF.js's state
      const handedBack = await reference.getTrainerState();
      const afterKernel = await first.trainerState();
      assert.is(handedBack.adam!.steps, 8);
      assert.is(handedBack.adam!.beta1Power, afterKernel.adam!.beta1Power, 'beta1Power: the same float32 product');
      assert.is(handedBack.adam!.beta2Power, afterKernel.adam!.beta2Power);
      assert.equal(Array.from(handedBack.scheduler!.lanes), Array.from(afterKernel.scheduler!.lanes));
      assert.equal(Array.from(handedBack.scheduler!.order), Array.from(afterKernel.scheduler!.order));
      assert.is(handedBack.scheduler!.cursor, afterKernel.scheduler!.cursor);
      assert.ok(largestDifference(handedBack.adamMoments, afterKernel.adamMoments) < 1e-5);
      const second = new KernelSequenceTrainer({ ...options, kernel, parameters: await reference.getParameters() });
      await second.setTrainerState(handedBack);
      await second.train({ ...args, tokenBudget: tokens });
      await reference.train({ ...args, tokenBudget: tokens });
      const back = largestDifference(second.packedParameters(), packParameters(await reference.getParameters()));
      assert.ok(back < 1e-5, `${name}: the step after handing back differs by ${back}`);
      // a trainer that did not take the state over trains other windows: the check above can fail
      const fresh = new KernelSequenceTrainer({ ...options, kernel, parameters: await reference.getParameters() });
      await fresh.train({ ...args, tokenBudget: tokens });
      const stray = largestDifference(fresh.packedParameters(), second.packedParameters());
      assert.ok(stray > 1e-4, `without the state the next step is another one (difference ${stray})`);
    } finally {
      reference.dispose();
    }
  });
}

states.run();

// ---------------------------------------------------------------------------------------------------------
const recovery = suite('the M-step alone recovers the true topic transitions');

/** Mean over rows of the total variation distance between the learned and the true next-topic distributions. */
function meanTotalVariation(learned: Float64Array, truth: (row: number) => Float64Array, K: number): number {
  let total = 0;
  for (let j = 0; j < K; j++) {
    const expected = truth(j);
    let distance = 0;
    for (let k = 0; k < K; k++) distance += Math.abs(learned[j * K + k]! - expected[k]!);
    total += distance / 2;
  }
  return total / K;
}

const TRUTH = { topics: 8, vocabulary: 64, sequences: 240, length: 60, seed: 11, dynamics: 'first-order' as const };
const RECOVERY = { hidden: 32, embedding: 16, learningRate: 0.01, bptt: 20, batch: 32, tokens: 60_000 };

/** The truth as `lla generate --truth` writes it: the topic sequences (offsets [D+1], topics [T]) and transitions. */
interface WrittenTruth {
  offsets: Int32Array;
  topics: Int32Array;
  transitions: SyntheticCorpus['transitions'];
}

let written: WrittenTruth | null = null;
async function generatedTruth(): Promise<WrittenTruth> {
  if (written !== null) return written;
  const folder = mkdtempSync(join(tmpdir(), 'lla-truth-'));
  try {
    const run = await runCli([
      'generate',
      '--out',
      join(folder, 'corpus.tsv'),
      '--truth',
      join(folder, 'truth.json'),
      '--topics',
      String(TRUTH.topics),
      '--vocabulary',
      String(TRUTH.vocabulary),
      '--sequences',
      String(TRUTH.sequences),
      '--length',
      String(TRUTH.length),
      '--seed',
      String(TRUTH.seed),
      '--dynamics',
      TRUTH.dynamics,
    ]);
    assert.is(run.code, 0, run.stderr);
    const truth = JSON.parse(readFileSync(join(folder, 'truth.json'), 'utf8')) as {
      topicSequences: number[][];
      transitions: SyntheticCorpus['transitions'];
      topics: number;
    };
    assert.is(truth.topics, TRUTH.topics);
    const offsets = new Int32Array(truth.topicSequences.length + 1);
    truth.topicSequences.forEach((row, d) => {
      offsets[d + 1] = offsets[d]! + row.length;
    });
    written = { offsets, topics: Int32Array.from(truth.topicSequences.flat()), transitions: truth.transitions };
    return written;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function recoveryError(kernel: Kernel, engine: 'kernel' | 'tfjs'): Promise<number> {
  const truth = await generatedTruth();
  const K = TRUTH.topics;
  const options = {
    variant: 'lla' as const,
    numTopics: K,
    vocabularySize: TRUTH.vocabulary,
    hidden: RECOVERY.hidden,
    embedding: RECOVERY.embedding,
    learningRate: RECOVERY.learningRate,
    seed: 2,
  };
  const lstm =
    engine === 'kernel'
      ? new KernelTopicLstm({ ...options, kernel })
      : await createTopicLstm({ ...options, tfBackend: 'wasm' });
  try {
    // the M-step alone: a next-topic language model on the true topic sequences
    const result = await lstm.train({
      inputs: truth.topics,
      targets: truth.topics,
      offsets: truth.offsets,
      tokenBudget: RECOVERY.tokens,
      bptt: RECOVERY.bptt,
      batch: RECOVERY.batch,
    });
    assert.ok(result.tokens >= RECOVERY.tokens);
    const learned = topicTransitionMatrix(kernel, truth.offsets, truth.topics, await lstm.cellWeights(), K);
    assert.is(learned.emptyRows.length, 0);
    return meanTotalVariation(learned.matrix, (j) => nextTopicDistribution(truth.transitions, K, j, j), K);
  } finally {
    lstm.dispose();
  }
}

for (const name of ['native', 'wasm'] as const) {
  recovery(`${name}: mean total variation of the learned K x K transition rows below 0.1`, async () => {
    const kernel = await backend(name);
    if (typeof kernel === 'string') return skipped(name, kernel);
    assert.is(kernel.name, name);
    const error = await recoveryError(kernel, 'kernel');
    assert.ok(error < 0.1, `${name}: mean total variation ${error}`);
    // an untrained model is far from the truth: the measure can fail
    const truth = await generatedTruth();
    // the written truth is the generator's: same sequences as the in-process corpus of the same options
    const synthetic = generateSynthetic(TRUTH);
    assert.equal(Array.from(truth.topics.subarray(0, 200)), Array.from(synthetic.topics.subarray(0, 200)));
    const untrained = new KernelTopicLstm({
      variant: 'lla',
      numTopics: TRUTH.topics,
      vocabularySize: TRUTH.vocabulary,
      hidden: RECOVERY.hidden,
      embedding: RECOVERY.embedding,
      learningRate: RECOVERY.learningRate,
      seed: 2,
      kernel,
    });
    const before = topicTransitionMatrix(
      kernel,
      truth.offsets,
      truth.topics,
      await untrained.cellWeights(),
      TRUTH.topics,
    );
    const far = meanTotalVariation(
      before.matrix,
      (j) => nextTopicDistribution(truth.transitions, TRUTH.topics, j, j),
      TRUTH.topics,
    );
    assert.ok(far > 0.5, `untrained: mean total variation ${far}`);
  });
}

for (const name of ['native', 'wasm'] as const) {
  recovery(`TF.js at the same budget recovers them too (transitions read with the ${name} kernel)`, async () => {
    await initTf({ backend: 'wasm' });
    const kernel = await backend(name);
    if (typeof kernel === 'string') return skipped(name, kernel);
    assert.is(kernel.name, name);
    const error = await recoveryError(kernel, 'tfjs');
    assert.ok(error < 0.1, `TF.js: mean total variation ${error}`);
  });
}

recovery.run();
