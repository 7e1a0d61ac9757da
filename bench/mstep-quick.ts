/**
 * A quick side-by-side of the LSTM M-step engines (issue 12 targets), until `lla bench --mstep` exists: tokens per
 * second of the kernel trainer on the native and the WASM backend (1 and 2 threads) and of the TF.js trainer on
 * its WASM backend, training lla's topic LSTM on the true topic sequences of a synthetic corpus, in one process,
 * engines alternating round by round so that a change of machine load hits them alike. Prints one line per engine
 * (median of the rounds) and the ratios the issue targets. On a machine that other work keeps busy, a second
 * thread gets little of a second core, so it also prints tokens per CPU-second (process CPU time, all threads):
 * the 2-thread / 1-thread ratio of that is the parallel efficiency, which the load does not change much.
 *
 *   npx tsx bench/mstep-quick.ts [--topics 50] [--hidden 64] [--embedding 32] [--batch 32] [--bptt 32]
 *     [--rounds 3] [--kernel-tokens 200000] [--tfjs-tokens 30000] [--engines native,wasm,tfjs]
 */
import { parseArgs } from 'node:util';
import { loadKernel } from '../src/kernels/loader.js';
import type { Kernel } from '../src/kernels/types.js';
import { KernelTopicLstm } from '../src/lstm/kernel-trainer.js';
import { createTopicLstm, type TopicLstm } from '../src/lstm/topic-lstm.js';
import { initTf } from '../src/lstm/tf-backend.js';
import { generateSynthetic } from '../src/generate/synthetic.js';

const { values } = parseArgs({
  options: {
    topics: { type: 'string', default: '50' },
    hidden: { type: 'string', default: '64' },
    embedding: { type: 'string', default: '32' },
    batch: { type: 'string', default: '32' },
    bptt: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    'kernel-tokens': { type: 'string', default: '200000' },
    'tfjs-tokens': { type: 'string', default: '30000' },
    engines: { type: 'string', default: 'native,wasm,tfjs' },
  },
});
const K = Number(values.topics);
const settings = { hidden: Number(values.hidden), embedding: Number(values.embedding), learningRate: 0.01, seed: 1 };
const bptt = Number(values.bptt);
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const engines = values.engines!.split(',');

const corpus = generateSynthetic({ topics: K, vocabulary: 10 * K, sequences: 2000, length: 100, seed: 3, dynamics: 'first-order' });
const data = { inputs: corpus.topics, targets: corpus.topics, offsets: corpus.offsets, bptt, batch };

interface Engine {
  label: string;
  tokens: number;
  train(budget: number): Promise<{ tokens: number; seconds: number }>;
}

const lstmOptions = { variant: 'lla' as const, numTopics: K, vocabularySize: 10 * K, ...settings };
const candidates: Engine[] = [];
for (const name of ['native', 'wasm'] as const) {
  if (!engines.includes(name)) continue;
  let kernel: Kernel;
  try {
    kernel = await loadKernel({ backend: name });
  } catch (error) {
    console.log(`kernel-${name}: not available (${(error as Error).message.split('\n')[0]})`);
    continue;
  }
  for (const threads of [1, 2]) {
    const lstm = new KernelTopicLstm({ ...lstmOptions, kernel, threads });
    candidates.push({ label: `kernel-${name} ${threads}t`, tokens: Number(values['kernel-tokens']),
      train: (budget) => lstm.train({ ...data, tokenBudget: budget }) });
  }
}
let tfjs: TopicLstm | null = null;
if (engines.includes('tfjs')) {
  await initTf({ backend: 'wasm' });
  tfjs = await createTopicLstm({ ...lstmOptions, tfBackend: 'wasm' });
  const model = tfjs;
  candidates.push({ label: 'tfjs-wasm 1t', tokens: Number(values['tfjs-tokens']), train: (budget) => model.train({ ...data, tokenBudget: budget }) });
}

// one short untimed call each (worker threads, WASM compilation, TF.js kernels)
for (const engine of candidates) await engine.train(bptt * batch * 4);
const speeds = new Map<string, number[]>();
const perCpuSecond = new Map<string, number[]>();
const record = (map: Map<string, number[]>, label: string, value: number) => map.set(label, [...(map.get(label) ?? []), value]);
for (let round = 0; round < rounds; round++) {
  for (const engine of candidates) {
    const cpu = process.cpuUsage();
    const result = await engine.train(engine.tokens);
    const used = process.cpuUsage(cpu);
    record(speeds, engine.label, result.tokens / result.seconds);
    record(perCpuSecond, engine.label, result.tokens / ((used.user + used.system) / 1e6));
  }
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
console.log(`K=${K} H=${settings.hidden} E=${settings.embedding} B=${batch} L=${bptt}, ${rounds} rounds, median tokens/s:`);
for (const [label, list] of speeds) {
  console.log(`  ${label.padEnd(18)} ${Math.round(median(list)).toString().padStart(9)}   (rounds: ${list.map((v) => Math.round(v)).join(', ')}; ` +
    `per CPU-second ${Math.round(median(perCpuSecond.get(label)!))})`);
}
const of = (label: string) => (speeds.has(label) ? median(speeds.get(label)!) : Number.NaN);
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a');
console.log(`  kernel-native 1t / tfjs-wasm: ${ratio(of('kernel-native 1t'), of('tfjs-wasm 1t'))} (target >= 10)`);
console.log(`  kernel-wasm 1t / tfjs-wasm:   ${ratio(of('kernel-wasm 1t'), of('tfjs-wasm 1t'))} (target >= 3)`);
console.log(`  native 2t / 1t:               ${ratio(of('kernel-native 2t'), of('kernel-native 1t'))} (target >= 1.7)`);
console.log(`  wasm 2t / 1t:                 ${ratio(of('kernel-wasm 2t'), of('kernel-wasm 1t'))} (target >= 1.7)`);
const cpu = (label: string) => (perCpuSecond.has(label) ? median(perCpuSecond.get(label)!) : Number.NaN);
console.log(`  parallel efficiency, tokens per CPU-second 2t / 1t: native ${ratio(cpu('kernel-native 2t'), cpu('kernel-native 1t'))}, ` +
  `wasm ${ratio(cpu('kernel-wasm 2t'), cpu('kernel-wasm 1t'))} (2t / 1t on an idle machine is at most 2 x this)`);
tfjs?.dispose();
process.exit(0);
