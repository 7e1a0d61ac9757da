/**
 * The LSTM side on TF.js: backend choice, parity of the trained cell with the kernel layout (reference cell and
 * the native / WASM kernels), learning a known topic dynamic, weight round trips, no tensor leaks.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initTf, tfBackendName, type TfBackendName } from '../src/lstm/tf-backend.js';
import { createTopicLstm, type TopicLstm } from '../src/lstm/topic-lstm.js';
import { createActionLstm } from '../src/lstm/action-lstm.js';
import { referenceLogits, referenceSteps } from '../src/lstm/reference-cell.js';
import {
  packParameters,
  toCellWeights,
  unpackParameters,
  type LstmParameters,
  type NetworkShape,
} from '../src/lstm/weights.js';
import { SeededRandom } from '../src/lstm/seeded-random.js';
import { gatherRows } from '../src/lstm/network.js';
import type * as tfTypes from '@tensorflow/tfjs';
import { WindowScheduler } from '../src/lstm/sequence-windows.js';
import { BackendError, UsageError } from '../src/errors.js';
import type { CellWeights, Kernel } from '../src/kernels/types.js';
import { glorotScaleParameters } from './helpers/lstm-fixtures.js';

function randomInputs(count: number, symbols: number, begin: number, seed: number): Int32Array {
  const random = new SeededRandom(seed);
  const inputs = new Int32Array(count);
  inputs[0] = begin;
  for (let t = 1; t < count; t++) inputs[t] = random.below(symbols);
  return inputs;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'compared arrays differ in length');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Topic sequences from z_{t+1} = z_t + 1 mod K, replaced by a uniform topic with probability `noise`. */
function successorTopics(numTopics: number, sequences: number, length: number, noise: number, seed: number) {
  const random = new SeededRandom(seed);
  const topics = new Int32Array(sequences * length);
  const offsets = new Int32Array(sequences + 1);
  for (let d = 0; d < sequences; d++) {
    offsets[d + 1] = (d + 1) * length;
    let z = random.below(numTopics);
    for (let t = 0; t < length; t++) {
      topics[d * length + t] = z;
      z = random.uniform() < noise ? random.below(numTopics) : (z + 1) % numTopics;
    }
  }
  return { topics, offsets };
}

const withEnv = async <T>(value: string | undefined, body: () => Promise<T>): Promise<T> => {
  const saved = process.env.LLA_TF_BACKEND;
  if (value === undefined) delete process.env.LLA_TF_BACKEND;
  else process.env.LLA_TF_BACKEND = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.LLA_TF_BACKEND;
    else process.env.LLA_TF_BACKEND = saved;
  }
};

// ---------------------------------------------------------------------------------------------------------
const backend = suite('tf backend');

backend('LLA_TF_BACKEND selects the backend and tfBackendName reports what ran', async () => {
  for (const name of ['cpu', 'wasm'] as TfBackendName[]) {
    const runtime = await withEnv(name, () => initTf());
    assert.is(runtime.name, name);
    assert.is(tfBackendName(), name);
    assert.is(runtime.tf.getBackend(), name);
  }
});

backend('an explicit option wins over LLA_TF_BACKEND', async () => {
  const runtime = await withEnv('cpu', () => initTf({ backend: 'wasm' }));
  assert.is(runtime.name, 'wasm');
  assert.is(runtime.tf.getBackend(), 'wasm');
});

backend('auto prefers tfjs-node, and says why it was skipped when it is missing', async () => {
  const runtime = await withEnv(undefined, () => initTf());
  if (runtime.name === 'node') {
    assert.equal(runtime.skipped, []);
    return;
  }
  assert.is(runtime.name, 'wasm', 'with tfjs-node missing, auto must pick the WASM backend');
  assert.is(runtime.skipped.length, 1);
  assert.match(runtime.skipped[0]!, /^node: @tensorflow\/tfjs-node is not installed/);
});

backend('forcing tfjs-node: runs when installed, else a clear error (visible skip notice)', async () => {
  let installed = true;
  try {
    await import('@tensorflow/tfjs-node' as string);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    installed = false;
  }
  if (installed) {
    const runtime = await withEnv('node', () => initTf());
    assert.is(runtime.name, 'node');
    assert.is(runtime.tf.getBackend(), 'tensorflow');
    await initTf({ backend: 'wasm' });
    return;
  }
  console.log(
    '  NOTICE: @tensorflow/tfjs-node is not installed (its install script needs internet access), so its ' +
      'training path is SKIPPED here; checking the forced-backend error instead',
  );
  try {
    await withEnv('node', () => initTf());
    assert.unreachable('forcing an uninstalled tfjs-node must fail');
  } catch (error) {
    assert.instance(error, BackendError);
    const message = (error as Error).message;
    assert.match(message, /'node' was forced \(by LLA_TF_BACKEND\)/);
    assert.match(message, /not installed/);
    assert.match(message, /LLA_TF_BACKEND=wasm/);
  }
  // the failed attempt must not leave TF.js without a working backend
  const runtime = await initTf({ backend: 'wasm' });
  assert.is(runtime.tf.getBackend(), 'wasm');
});

backend('an unknown LLA_TF_BACKEND is a usage error naming the choices', async () => {
  try {
    await withEnv('gpu', () => initTf());
    assert.unreachable('gpu is not a backend');
  } catch (error) {
    assert.instance(error, UsageError);
    assert.match((error as Error).message, /LLA_TF_BACKEND="gpu".*node, wasm, cpu or auto/);
  }
});

backend.run();

// ---------------------------------------------------------------------------------------------------------
const parity = suite('cell parity');

parity.before(async () => {
  await initTf({ backend: 'wasm' });
});

for (const variant of ['lla', 'word-lla'] as const) {
  for (const tfBackend of ['wasm', 'cpu'] as const) {
    for (const path of ['table', 'window'] as const) {
      parity(
        `${variant} on tfjs ${tfBackend} (${path} input path): TF.js cell vs reference over 50 steps < 1e-5`,
        async () => {
          await initTf({ backend: tfBackend });
          const model = await createTopicLstm({
            variant,
            numTopics: 12,
            vocabularySize: 30,
            hidden: 16,
            embedding: 8,
            learningRate: 0.01,
            seed: 3,
          });
          try {
            model.model.inputPath = path;
            model.setParameters(glorotScaleParameters(model.shape, 11));
            const inputs = randomInputs(50, model.beginSymbol, model.beginSymbol, 5);
            const trained = await model.forwardStates(inputs);
            const reference = referenceSteps(await model.cellWeights(), inputs);
            const hidden = maxDifference(trained.hidden, reference.hidden);
            const cell = maxDifference(trained.cell, reference.cell);
            assert.ok(hidden < 1e-5, `max |h| difference ${hidden}`);
            assert.ok(cell < 1e-5, `max |c| difference ${cell}`);
            // the states must actually move (not a trivially equal zero run)
            assert.ok(maxDifference(reference.cell, new Float64Array(reference.cell.length)) > 0.1);
          } finally {
            model.dispose();
            await initTf({ backend: 'wasm' });
          }
        },
      );
    }
  }
}

parity('the exported layout: inputTable = embedding · inputKernel, transposed recurrent and output', async () => {
  const shape: NetworkShape = { inputSymbols: 3, embedding: 2, hidden: 1, outputs: 2 };
  const parameters: LstmParameters = {
    shape,
    embedding: Float32Array.from([1, 2, 3, 4, 5, 6]),
    inputKernel: Float32Array.from([1, 0, 0, 1, 0, 1, 1, 0]),
    recurrentKernel: Float32Array.from([0.1, 0.2, 0.3, 0.4]),
    gateBias: Float32Array.from([0, 1, 0, 0]),
    outputKernel: Float32Array.from([7, 8]),
    outputBias: Float32Array.from([0.5, -0.5]),
  };
  const weights = toCellWeights(parameters);
  assert.equal(Array.from(weights.inputTable), [1, 2, 2, 1, 3, 4, 4, 3, 5, 6, 6, 5]);
  assert.equal(
    Array.from(weights.recurrent),
    [0.1, 0.2, 0.3, 0.4].map((v) => Math.fround(v)),
  );
  assert.equal(Array.from(weights.outputWeights), [7, 8]);
  assert.is(weights.hidden, 1);
  assert.equal(Array.from(weights.outputBias), [0.5, -0.5]);
});

parity.run();

// ---------------------------------------------------------------------------------------------------------
const kernels = suite('cell parity with the kernels');

async function tryKernel(name: 'native' | 'wasm'): Promise<Kernel | string> {
  try {
    const { loadKernel } = await import('../src/kernels/loader.js');
    return await loadKernel({ backend: name });
  } catch (error) {
    return (error as Error).message.split('\n').slice(0, 2).join(' ');
  }
}

for (const name of ['native', 'wasm'] as const) {
  kernels(`${name} kernel lstmSteps matches the TF.js cell over 50 steps < 1e-5 (lla and word-lla)`, async () => {
    const kernel = await tryKernel(name);
    if (typeof kernel === 'string') {
      console.log(`  NOTICE: ${name} kernel parity SKIPPED: the kernel did not load: ${kernel}`);
      return;
    }
    await initTf({ backend: 'wasm' });
    for (const variant of ['lla', 'word-lla'] as const) {
      const model = await createTopicLstm({
        variant,
        numTopics: 10,
        vocabularySize: 25,
        hidden: 24,
        embedding: 8,
        learningRate: 0.01,
        seed: 4,
      });
      try {
        model.setParameters(glorotScaleParameters(model.shape, 21));
        const inputs = randomInputs(50, model.beginSymbol, model.beginSymbol, 9);
        const trained = await model.forwardStates(inputs);
        const weights: CellWeights = await model.cellWeights();
        const hidden = new Float32Array(50 * model.shape.hidden);
        const cell = new Float32Array(50 * model.shape.hidden);
        kernel.lstmSteps(weights, inputs, hidden, cell);
        const hiddenDifference = maxDifference(trained.hidden, hidden);
        const cellDifference = maxDifference(trained.cell, cell);
        assert.ok(hiddenDifference < 1e-5, `${name} ${variant}: max |h| difference ${hiddenDifference}`);
        assert.ok(cellDifference < 1e-5, `${name} ${variant}: max |c| difference ${cellDifference}`);
      } finally {
        model.dispose();
      }
    }
  });
}

kernels.run();

// ---------------------------------------------------------------------------------------------------------
const training = suite('training');

training.before(async () => {
  await initTf({ backend: 'wasm' });
});

training('lla learns z_{t+1} = z_t + 1 mod K (10% noise): loss far below log K, export predicts the rule', async () => {
  const K = 8;
  const { topics, offsets } = successorTopics(K, 60, 120, 0.1, 1);
  const model = await createTopicLstm({
    variant: 'lla',
    numTopics: K,
    vocabularySize: 50,
    hidden: 16,
    embedding: 8,
    learningRate: 0.02,
    seed: 7,
  });
  try {
    const first = await model.train({
      inputs: topics,
      targets: topics,
      offsets,
      tokenBudget: 2000,
      bptt: 20,
      batch: 16,
    });
    assert.ok(first.meanLoss > 0.8 * Math.log(K), `an untrained model starts near log K, got ${first.meanLoss}`);
    let last = first;
    for (let call = 0; call < 8; call++) {
      last = await model.train({ inputs: topics, targets: topics, offsets, tokenBudget: 3000, bptt: 20, batch: 16 });
    }
    assert.ok(last.tokens >= 3000 && last.seconds > 0);
    // the rule's entropy is about 0.47 nats; log 8 is 2.08
    assert.ok(last.meanLoss < 0.4 * Math.log(K), `loss ${last.meanLoss} should be well below log K = ${Math.log(K)}`);
    // the exported weights, run by the reference cell, predict the successor of each topic
    const weights = await model.cellWeights();
    const inputs = Int32Array.from([K, 3, 4, 5, 6, 7, 0, 1]);
    const states = referenceSteps(weights, inputs);
    for (let t = 1; t < inputs.length; t++) {
      const logits = referenceLogits(weights, states.hidden.subarray(t * 16, (t + 1) * 16));
      const best = logits.indexOf(Math.max(...logits));
      assert.is(best, (inputs[t]! + 1) % K, `after topic ${inputs[t]} the model should predict its successor`);
    }
  } finally {
    model.dispose();
  }
});

training('word-lla learns topics that the previous action determines', async () => {
  const K = 5;
  const V = 20;
  const random = new SeededRandom(2);
  const D = 40;
  const length = 80;
  const actions = new Int32Array(D * length);
  const topics = new Int32Array(D * length);
  const offsets = new Int32Array(D + 1);
  for (let d = 0; d < D; d++) {
    offsets[d + 1] = (d + 1) * length;
    for (let t = 0; t < length; t++) {
      const at = d * length + t;
      actions[at] = random.below(V);
      // the topic at t is a function of the previous action (topic 0 at the start)
      topics[at] = t === 0 ? 0 : actions[at - 1]! % K;
    }
  }
  const model = await createTopicLstm({
    variant: 'word-lla',
    numTopics: K,
    vocabularySize: V,
    hidden: 16,
    embedding: 8,
    learningRate: 0.02,
    seed: 8,
  });
  try {
    let last = await model.train({ inputs: actions, targets: topics, offsets, tokenBudget: 2000, bptt: 16, batch: 16 });
    for (let call = 0; call < 6; call++) {
      last = await model.train({ inputs: actions, targets: topics, offsets, tokenBudget: 2500, bptt: 16, batch: 16 });
    }
    assert.ok(last.meanLoss < 0.3 * Math.log(K), `loss ${last.meanLoss} should be well below log K = ${Math.log(K)}`);
  } finally {
    model.dispose();
  }
});

training('a fixed seed reproduces training exactly on one backend', async () => {
  const K = 6;
  const { topics, offsets } = successorTopics(K, 20, 33, 0.2, 9);
  const run = async () => {
    const model = await createTopicLstm({
      variant: 'lla',
      numTopics: K,
      vocabularySize: 9,
      hidden: 8,
      embedding: 4,
      learningRate: 0.02,
      seed: 12,
    });
    try {
      const losses: number[] = [];
      for (let call = 0; call < 3; call++) {
        losses.push(
          (await model.train({ inputs: topics, targets: topics, offsets, tokenBudget: 200, bptt: 7, batch: 5 }))
            .meanLoss,
        );
      }
      return { losses, weights: Array.from(await model.packedParameters()) };
    } finally {
      model.dispose();
    }
  };
  const first = await run();
  const second = await run();
  assert.equal(second.losses, first.losses);
  assert.equal(second.weights, first.weights);
});

training('row lookups have a working gradient on WASM (duplicates summed), unlike tf.gather there', async () => {
  const { tf } = await initTf({ backend: 'wasm' });
  const table = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const indices = tf.tensor1d([2, 0, 2], 'int32');
  const weights = tf.tensor2d([
    [1, 10],
    [100, 1000],
    [2, 20],
  ]);
  const gradient = tf.grad((x: tfTypes.Tensor) =>
    tf.sum(tf.mul(gatherRows(tf, x as tfTypes.Tensor2D, indices), weights)),
  )(table);
  assert.equal(Array.from(await gradient.data()), [100, 1000, 0, 0, 3, 30]);
  assert.throws(() => tf.grad((x: tfTypes.Tensor) => tf.sum(tf.gather(x, indices)))(table), /UnsortedSegmentSum/);
  tf.dispose([table, indices, weights, gradient]);
});

training('the table and window input paths train identically', async () => {
  const K = 5;
  const { topics, offsets } = successorTopics(K, 9, 31, 0.2, 10);
  const losses: Record<string, number[]> = {};
  for (const path of ['table', 'window'] as const) {
    const model = await createTopicLstm({
      variant: 'lla',
      numTopics: K,
      vocabularySize: 9,
      hidden: 8,
      embedding: 4,
      learningRate: 0.05,
      seed: 6,
    });
    model.model.inputPath = path;
    losses[path] = [];
    for (let call = 0; call < 4; call++) {
      losses[path]!.push(
        (await model.train({ inputs: topics, targets: topics, offsets, tokenBudget: 150, bptt: 6, batch: 4 })).meanLoss,
      );
    }
    model.dispose();
  }
  for (let call = 0; call < 4; call++) {
    assert.ok(
      Math.abs(losses.table![call]! - losses.window![call]!) < 1e-4,
      `call ${call}: ${losses.table![call]} vs ${losses.window![call]}`,
    );
  }
  assert.ok(losses.table![3]! < losses.table![0]!, 'and the loss goes down');
});

training('rejects bad arguments with messages that name them', async () => {
  const model = await createTopicLstm({
    variant: 'lla',
    numTopics: 4,
    vocabularySize: 9,
    hidden: 4,
    embedding: 2,
    learningRate: 0.01,
    seed: 1,
  });
  try {
    // a valid call, each case breaking one thing of it
    const valid = {
      inputs: Int32Array.from([0, 1, 2]),
      targets: Int32Array.from([0, 1, 2]),
      offsets: Int32Array.from([0, 3]),
      tokenBudget: 5,
      bptt: 2,
      batch: 1,
    };
    const broken: Array<[Partial<typeof valid>, RegExp]> = [
      [{ inputs: Int32Array.from([0, 1, 4]) }, /input symbol 4 .* reserved for the sequence begin/],
      [{ targets: Int32Array.from([0, 1, 9]) }, /target 9 at token 2/],
      [{ offsets: Int32Array.from([0, 2]) }, /offsets must start at 0 and end at the token count 3/],
      [{ bptt: 0 }, /bptt must be a positive integer/],
      [
        { inputs: new Int32Array(0), targets: new Int32Array(0), offsets: Int32Array.from([0, 0]) },
        /no tokens to train on/,
      ],
    ];
    const cases: Array<[() => Promise<unknown>, RegExp]> = broken.map(([change, pattern]) => [
      () => model.train({ ...valid, ...change }),
      pattern,
    ]);
    for (const [call, pattern] of cases) {
      try {
        await call();
        assert.unreachable(`expected an error matching ${pattern}`);
      } catch (error) {
        assert.match((error as Error).message, pattern);
      }
    }
    const controller = new AbortController();
    controller.abort();
    const before = await model.packedParameters();
    const stopped = await model.train({ ...valid, signal: controller.signal });
    assert.is(stopped.interrupted, true);
    assert.is(stopped.tokens, 0);
    assert.equal(Array.from(await model.packedParameters()), Array.from(before), 'no update after the abort');
  } finally {
    model.dispose();
  }
});

training('tensor count stays flat across train, evaluate and forward calls', async () => {
  const { tf } = await initTf({ backend: 'wasm' });
  const K = 6;
  const { topics, offsets } = successorTopics(K, 10, 37, 0.2, 3);
  const before = tf.memory().numTensors;
  const model = await createTopicLstm({
    variant: 'lla',
    numTopics: K,
    vocabularySize: 9,
    hidden: 8,
    embedding: 4,
    learningRate: 0.01,
    seed: 2,
  });
  await model.train({ inputs: topics, targets: topics, offsets, tokenBudget: 300, bptt: 10, batch: 4 });
  const afterFirst = tf.memory().numTensors;
  for (let call = 0; call < 4; call++) {
    await model.train({ inputs: topics, targets: topics, offsets, tokenBudget: 300, bptt: 10, batch: 4 });
    await model.forwardStates(topics.subarray(0, 20));
    await model.cellWeights();
    assert.is(tf.memory().numTensors, afterFirst, `tensors after call ${call + 2}`);
  }
  model.dispose();
  assert.is(tf.memory().numTensors, before, 'dispose frees every tensor the model made');
});

training('the windows stream every token once per pass: begin symbol and zero state at each sequence start', () => {
  const inputs = Int32Array.from([10, 11, 12, 13, 14, 15, 16, 17, 18]);
  const targets = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const offsets = Int32Array.from([0, 4, 4, 5, 9]);
  const begin = 20;
  const scheduler = new WindowScheduler({ inputs, targets, offsets }, begin + 1, 2, 5);
  assert.is(scheduler.lanes, 2);
  const seen = new Map<number, number>();
  const totalSteps = 9; // 2 lanes x 9 steps = 18 = two passes over 9 tokens (lanes never idle)
  const window = scheduler.next(totalSteps);
  for (let n = 0; n < window.position.length; n++) {
    const position = window.position[n]!;
    assert.ok(position >= 0, 'training lanes are never idle');
    seen.set(position, (seen.get(position) ?? 0) + 1);
    const sequence = window.sequence[n]!;
    const isStart = position === offsets[sequence]!;
    assert.is(window.inputs[n], isStart ? begin : inputs[position - 1], `input at position ${position}`);
    assert.is(window.keep[n], isStart ? 0 : 1);
    assert.is(window.targets[n], targets[position]);
  }
  assert.is(window.tokens, 18);
  for (let position = 0; position < 9; position++)
    assert.is(seen.get(position), 2, `position ${position} twice in two passes`);
});

training.run();

// ---------------------------------------------------------------------------------------------------------
const persistence = suite('weights round trip');

persistence('packed weights load back exactly and training continues from them', async () => {
  await initTf({ backend: 'wasm' });
  const K = 5;
  const { topics, offsets } = successorTopics(K, 12, 40, 0.1, 4);
  const original = await createTopicLstm({
    variant: 'lla',
    numTopics: K,
    vocabularySize: 9,
    hidden: 8,
    embedding: 4,
    learningRate: 0.02,
    seed: 5,
  });
  let copy: TopicLstm | null = null;
  try {
    await original.train({ inputs: topics, targets: topics, offsets, tokenBudget: 400, bptt: 10, batch: 4 });
    const packed = await original.packedParameters();
    // a different seed: every value must come from the packed weights
    copy = await createTopicLstm({
      variant: 'lla',
      numTopics: K,
      vocabularySize: 9,
      hidden: 8,
      embedding: 4,
      learningRate: 0.02,
      seed: 99,
    });
    copy.loadPackedParameters(packed);
    assert.equal(Array.from(await copy.packedParameters()), Array.from(packed));
    const a = await original.cellWeights();
    const b = await copy.cellWeights();
    for (const key of ['inputTable', 'recurrent', 'gateBias', 'outputWeights', 'outputBias'] as const) {
      assert.equal(Array.from(b[key]), Array.from(a[key]), key);
    }
    const inputs = Int32Array.from([K, 0, 1, 2, 3]);
    assert.equal(
      Array.from((await copy.forwardStates(inputs)).hidden),
      Array.from((await original.forwardStates(inputs)).hidden),
    );
    const more = await copy.train({ inputs: topics, targets: topics, offsets, tokenBudget: 400, bptt: 10, batch: 4 });
    assert.ok(
      Number.isFinite(more.meanLoss) && more.meanLoss < Math.log(K),
      `continued training loss ${more.meanLoss}`,
    );
    // unpack/pack are inverse and reject a wrong length
    const unpacked = unpackParameters(original.shape, packed);
    assert.equal(Array.from(packParameters(unpacked)), Array.from(packed));
    assert.throws(() => unpackParameters(original.shape, packed.subarray(1)), /expected \d+ for R=6 E=4 H=8 O=5/);
  } finally {
    original.dispose();
    copy?.dispose();
  }
});

persistence.run();

// ---------------------------------------------------------------------------------------------------------
const baseline = suite('action-level LSTM baseline');

baseline('exact log-likelihood and next-action scores agree with the reference cell, in any batching', async () => {
  await initTf({ backend: 'wasm' });
  const V = 7;
  const random = new SeededRandom(6);
  const lengths = [1, 9, 23, 4, 15];
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((n, d) => {
    offsets[d + 1] = offsets[d]! + n;
  });
  const tokens = new Int32Array(offsets[lengths.length]!);
  for (let t = 0; t < tokens.length; t++) tokens[t] = random.below(V);
  const model = await createActionLstm({ vocabularySize: V, hidden: 8, embedding: 4, learningRate: 0.01, seed: 3 });
  try {
    model.setParameters(glorotScaleParameters(model.shape, 13));
    const weights = toCellWeights(await model.getParameters());
    const positions = Int32Array.from([0, 5, 10, 33, tokens.length - 1]);
    const whole = await model.evaluate({ tokens, offsets, positions });
    const pieces = await model.evaluate({ tokens, offsets, positions, batch: 2, window: 3 });
    for (let d = 0; d < lengths.length; d++) {
      const start = offsets[d]!;
      const inputs = new Int32Array(lengths[d]!);
      inputs[0] = V;
      for (let t = 1; t < inputs.length; t++) inputs[t] = tokens[start + t - 1]!;
      const states = referenceSteps(weights, inputs);
      let expected = 0;
      for (let t = 0; t < inputs.length; t++) {
        const logits = referenceLogits(weights, states.hidden.subarray(t * 8, (t + 1) * 8));
        const top = Math.max(...logits);
        const logNormaliser = top + Math.log(logits.reduce((sum, l) => sum + Math.exp(l - top), 0));
        expected += logits[tokens[start + t]!]! - logNormaliser;
        const rank = positions.indexOf(start + t);
        if (rank >= 0) {
          for (let w = 0; w < V; w++) {
            const difference = Math.abs(whole.scores[rank * V + w]! - (logits[w]! - logNormaliser));
            assert.ok(difference < 1e-5, `score of action ${w} at position ${start + t}: off by ${difference}`);
          }
        }
      }
      assert.ok(
        Math.abs(whole.logLikelihood[d]! - expected) < 1e-4,
        `sequence ${d}: ${whole.logLikelihood[d]} vs ${expected}`,
      );
      assert.ok(
        Math.abs(pieces.logLikelihood[d]! - expected) < 1e-4,
        `sequence ${d} in small batches: ${pieces.logLikelihood[d]} vs ${expected}`,
      );
    }
    assert.equal(
      Array.from(pieces.scores).map((v) => v.toFixed(5)),
      Array.from(whole.scores).map((v) => v.toFixed(5)),
    );
  } finally {
    model.dispose();
  }
});

baseline('training lowers the held-out perplexity of a predictable action stream', async () => {
  const V = 12;
  const make = (seed: number) => {
    const random = new SeededRandom(seed);
    const D = 30;
    const length = 50;
    const tokens = new Int32Array(D * length);
    const offsets = new Int32Array(D + 1);
    for (let d = 0; d < D; d++) {
      offsets[d + 1] = (d + 1) * length;
      let w = random.below(V);
      for (let t = 0; t < length; t++) {
        tokens[d * length + t] = w;
        w = random.uniform() < 0.15 ? random.below(V) : (w * 5 + 1) % V;
      }
    }
    return { tokens, offsets };
  };
  const train = make(1);
  const heldOut = make(2);
  const model = await createActionLstm({ vocabularySize: V, hidden: 16, embedding: 8, learningRate: 0.02, seed: 4 });
  try {
    const perplexity = async () => {
      const sum = (await model.logLikelihood(heldOut)).reduce((a, b) => a + b, 0);
      return Math.exp(-sum / heldOut.tokens.length);
    };
    const before = await perplexity();
    for (let call = 0; call < 6; call++) await model.train({ ...train, tokenBudget: 2500, bptt: 20, batch: 16 });
    const after = await perplexity();
    assert.ok(before > 0.8 * V, `untrained perplexity ${before} should be near V = ${V}`);
    assert.ok(after < 3, `trained perplexity ${after} should approach the stream's (about 1.7)`);
  } finally {
    model.dispose();
  }
});

baseline.run();
