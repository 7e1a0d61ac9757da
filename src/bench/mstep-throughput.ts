/**
 * The M-step benchmark behind `lla bench --mstep` (issue 12): tokens per second of lla's topic-LSTM training alone,
 * engine beside engine in one process — the kernels' fused trainer on the native and the WASM backend at each
 * thread count, and the TF.js trainer — on the topic sequences of a synthetic corpus sampled from a known
 * first-order LLA (src/generate/synthetic.ts: the kind of sequences an E-step hands the M-step).
 *
 * For each size (K, H): every engine is built, warmed up by one short untimed call (worker threads, WASM
 * compilation, TF.js kernels) that also sizes its timed calls to about `seconds` each, then the engines take turns
 * round by round, so that a change of machine load hits them alike; a cell's figure is the median of its rounds.
 * Memory: the resident set grows by what an engine allocates (weights, Adam's moments, windows, work space), and
 * the process's peak resident set is reported once (every engine lives in this process).
 */
import { loadavg } from 'node:os';
import { loadKernel } from '../kernels/loader.js';
import type { Kernel } from '../kernels/types.js';
import { KernelTopicLstm } from '../lstm/kernel-trainer.js';
import { createTopicLstm } from '../lstm/topic-lstm.js';
import { ensureTf, type TfBackendChoice } from '../lstm/tf-backend.js';
import { generateSynthetic } from '../generate/synthetic.js';
import { InterruptedError } from '../errors.js';
import { DEFAULT_SETTINGS } from '../train/settings.js';

export const MSTEP_ENGINES = ['native', 'wasm', 'tfjs'] as const;
export type MstepEngineName = (typeof MSTEP_ENGINES)[number];

export const MSTEP_BENCH_DEFAULTS = Object.freeze({
  topics: [50, 500],
  hidden: [64, 128],
  threads: [1, 2],
  engines: [...MSTEP_ENGINES] as MstepEngineName[],
  embedding: DEFAULT_SETTINGS.embedding,
  batch: DEFAULT_SETTINGS.batch,
  bptt: DEFAULT_SETTINGS.bptt,
  learningRate: DEFAULT_SETTINGS.learningRate,
  rounds: 3,
  seconds: 2,
  sequences: 2000,
  length: 100,
  seed: 1,
});

export interface MstepBenchSettings {
  topics: number[];
  hidden: number[];
  /** thread counts of the kernel engines (TF.js runs once, on its own threads) */
  threads: number[];
  engines: MstepEngineName[];
  embedding: number;
  batch: number;
  bptt: number;
  learningRate: number;
  rounds: number;
  /** about this long each timed call */
  seconds: number;
  sequences: number;
  length: number;
  seed: number;
  tfBackend?: TfBackendChoice;
  signal?: AbortSignal;
  onCell?: (cell: MstepBenchCell) => void;
}

/** One engine at one size: its median speed and what it cost in memory. */
export interface MstepBenchCell {
  topics: number;
  hidden: number;
  /** 'kernel-native', 'kernel-wasm' or 'tfjs-<backend>' */
  engine: string;
  /** kernel threads; null for TF.js */
  threads: number | null;
  tokensPerSecond: number;
  /** each round's tokens per second */
  rounds: number[];
  /** tokens of each timed call */
  tokensPerCall: number;
  /** growth of the resident set while the engine was built and warmed up (bytes; 0 when it reused memory) */
  residentGrowthBytes: number;
}

export interface MstepBenchResult {
  settings: Omit<MstepBenchSettings, 'signal' | 'onCell'>;
  cells: MstepBenchCell[];
  /** engines that could not be loaded, with why */
  unavailable: Array<{ engine: string; reason: string }>;
  peakRssBytes: number;
  loadAverage: number[];
}

interface Contender {
  engine: string;
  threads: number | null;
  tokensPerCall: number;
  rounds: number[];
  residentGrowthBytes: number;
  train(tokens: number): Promise<{ tokens: number; seconds: number }>;
  dispose(): void;
}

export async function runMstepBench(settings: MstepBenchSettings): Promise<MstepBenchResult> {
  const cells: MstepBenchCell[] = [];
  const unavailable: MstepBenchResult['unavailable'] = [];
  const kernels = new Map<'native' | 'wasm', Kernel>();
  for (const name of ['native', 'wasm'] as const) {
    if (!settings.engines.includes(name)) continue;
    try {
      kernels.set(name, await loadKernel({ backend: name, warn: () => undefined }));
    } catch (error) {
      unavailable.push({ engine: `kernel-${name}`, reason: (error as Error).message.split('\n')[0]! });
    }
  }
  let tfName: string | null = null;
  if (settings.engines.includes('tfjs')) {
    tfName = (await ensureTf(settings.tfBackend === undefined ? {} : { backend: settings.tfBackend })).name;
  }
  for (const K of settings.topics) {
    const corpus = generateSynthetic({
      topics: K,
      vocabulary: 10 * K,
      sequences: settings.sequences,
      length: settings.length,
      seed: settings.seed,
      dynamics: 'first-order',
    });
    const data = {
      inputs: corpus.topics,
      targets: corpus.topics,
      offsets: corpus.offsets,
      bptt: settings.bptt,
      batch: settings.batch,
    };
    for (const H of settings.hidden) {
      const options = {
        variant: 'lla' as const,
        numTopics: K,
        vocabularySize: 10 * K,
        hidden: H,
        embedding: settings.embedding,
        learningRate: settings.learningRate,
        seed: settings.seed,
      };
      const contenders: Contender[] = [];
      const warmUp = async (
        contender: Omit<Contender, 'tokensPerCall' | 'rounds' | 'residentGrowthBytes'>,
        rssBefore: number,
      ) => {
        const probe = await contender.train(settings.bptt * settings.batch * 8);
        const speed = probe.tokens / Math.max(1e-6, probe.seconds);
        const tokensPerCall = Math.max(settings.bptt * settings.batch, Math.round(speed * settings.seconds));
        contenders.push({
          ...contender,
          tokensPerCall,
          rounds: [],
          residentGrowthBytes: Math.max(0, process.memoryUsage().rss - rssBefore),
        });
      };
      for (const [name, kernel] of kernels) {
        for (const threads of settings.threads) {
          const before = process.memoryUsage().rss;
          const lstm = new KernelTopicLstm({ ...options, kernel, threads });
          await warmUp(
            {
              engine: `kernel-${name}`,
              threads,
              train: (tokens) => lstm.train({ ...data, tokenBudget: tokens }),
              dispose: () => lstm.dispose(),
            },
            before,
          );
        }
      }
      if (tfName !== null) {
        const before = process.memoryUsage().rss;
        const lstm = await createTopicLstm({
          ...options,
          ...(settings.tfBackend === undefined ? {} : { tfBackend: settings.tfBackend }),
        });
        await warmUp(
          {
            engine: `tfjs-${tfName}`,
            threads: null,
            train: (tokens) => lstm.train({ ...data, tokenBudget: tokens }),
            dispose: () => lstm.dispose(),
          },
          before,
        );
      }
      for (let round = 0; round < settings.rounds; round++) {
        for (const contender of contenders) {
          if (settings.signal?.aborted) throw new InterruptedError('lla bench --mstep: interrupted');
          const result = await contender.train(contender.tokensPerCall);
          contender.rounds.push(result.tokens / Math.max(1e-9, result.seconds));
        }
      }
      for (const contender of contenders) {
        const cell: MstepBenchCell = {
          topics: K,
          hidden: H,
          engine: contender.engine,
          threads: contender.threads,
          tokensPerSecond: median(contender.rounds),
          rounds: contender.rounds,
          tokensPerCall: contender.tokensPerCall,
          residentGrowthBytes: contender.residentGrowthBytes,
        };
        cells.push(cell);
        settings.onCell?.(cell);
        contender.dispose();
      }
    }
  }
  const { signal: _signal, onCell: _onCell, ...kept } = settings;
  return {
    settings: kept,
    cells,
    unavailable,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    loadAverage: loadavg(),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The ratios issue 12 targets, from the cells of one size (NaN where an engine is missing). */
export function mstepRatios(
  cells: MstepBenchCell[],
  topics: number,
  hidden: number,
): {
  nativeOverTfjs: number;
  wasmOverTfjs: number;
  nativeTwoOverOne: number;
  wasmTwoOverOne: number;
} {
  const speed = (engine: string, threads: number | null) =>
    cells.find(
      (cell) => cell.topics === topics && cell.hidden === hidden && cell.engine === engine && cell.threads === threads,
    )?.tokensPerSecond ?? Number.NaN;
  const tfjs =
    cells.find((cell) => cell.topics === topics && cell.hidden === hidden && cell.engine.startsWith('tfjs'))
      ?.tokensPerSecond ?? Number.NaN;
  return {
    nativeOverTfjs: speed('kernel-native', 1) / tfjs,
    wasmOverTfjs: speed('kernel-wasm', 1) / tfjs,
    nativeTwoOverOne: speed('kernel-native', 2) / speed('kernel-native', 1),
    wasmTwoOverOne: speed('kernel-wasm', 2) / speed('kernel-wasm', 1),
  };
}
