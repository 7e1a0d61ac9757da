/**
 * The memory a training run will need, estimated from the corpus and settings before the sampler, the LSTM or
 * the tables are allocated (issue 5 point 3), so that a run too big for the machine is refused at once with what
 * to change instead of dying of out-of-memory hours later. Every part counts the typed arrays the code allocates
 * (src/train/, src/model/, the kernels, TF.js); sizes in bytes.
 */
import { totalmem } from 'node:os';
import { UsageError } from '../errors.js';
import type { LstmEngine, ModelKind } from './settings.js';
import { CONTEXT_DIMENSIONS } from './context-start.js';
import { COPY_FIT_BUDGET } from './copy-fit.js';

export interface MemoryInputs {
  model: ModelKind;
  /** training tokens T and sequences D; held-out tokens and sequences scored during and after training */
  tokens: number;
  sequences: number;
  heldOutTokens: number;
  heldOutSequences: number;
  /** V actions, K topics, H hidden units, E embedding size */
  vocabulary: number;
  topics: number;
  hidden: number;
  embedding: number;
  /** particles of the held-out filter, LSTM minibatch lanes and window */
  particles: number;
  batch: number;
  bptt: number;
  /** kernel threads actually used (each has its own particle and LSTM scratch) */
  threads: number;
  /** who trains the LSTM (its work space differs); null for lda */
  lstmEngine: LstmEngine | null;
  /** the run starts from the context clustering (`--init hmm:N`) */
  contextStart?: boolean;
  /** the largest order of hmm table its sweeps may use (settings.ts hmmOrderNeeded; 0: no hmm sweeps) */
  hmmOrder?: number;
  /** a topic model's copy component is fitted (`--copy auto`) */
  copy?: boolean;
  /** `--lookahead auto` (lla with --copy auto): two runs, one held as a snapshot while the other trains */
  chooseLookahead?: boolean;
  /** repeat blocks (a topic model): the training corpus collapsed to its runs, beside the corpus as read */
  repeatBlocks?: boolean;
}

/** Lanes per block of the kernels' trainer (native/lstm_train.h kLanesPerBlock, assembly/lstm_train.ts). */
const TRAINER_LANES_PER_BLOCK = 8;
/** Tokens of the windows handed to the kernels' trainer per call (src/lstm/kernel-trainer.ts TOKENS_PER_CALL). */
const TRAINER_TOKENS_PER_CALL = 32768;

export interface MemoryPart {
  name: string;
  bytes: number;
}

export interface MemoryEstimate {
  /** sum of the parts */
  bytes: number;
  /** largest first */
  parts: MemoryPart[];
}

const INT = 4;
const FLOAT = 4;
const DOUBLE = 8;

/** Trainable LSTM parameters: embedding [R][E], input kernel [E][4H], recurrent [H][4H], bias [4H], output [H][O] + [O]. */
export function lstmParameterCount(inputSymbols: number, embedding: number, hidden: number, outputs: number): number {
  return (
    inputSymbols * embedding + embedding * 4 * hidden + hidden * 4 * hidden + 4 * hidden + hidden * outputs + outputs
  );
}

export function estimateTrainingMemory(m: MemoryInputs): MemoryEstimate {
  const T = m.tokens;
  const D = m.sequences;
  const V = m.vocabulary;
  const K = m.topics;
  const H = m.hidden;
  const parts: MemoryPart[] = [];
  const add = (name: string, bytes: number) => {
    if (bytes > 0) parts.push({ name, bytes: Math.ceil(bytes) });
  };

  // the prepared training and held-out corpora (tokens + offsets), and the sampler's own kernel copies of them
  const corpus = (T + D + 1) * INT + (m.heldOutTokens + m.heldOutSequences + 1) * INT;
  add(
    'corpus arrays (training and held-out tokens, offsets)',
    m.model === 'lstm' || m.model === 'cache' ? corpus : 2 * corpus,
  );
  // the recency cache's fit and scoring: per action a count, a step and an epoch; the held-in slice's statistics
  add('recency cache (history per action, held-in statistics)', V * (DOUBLE + 2 * INT) + (3 * T * DOUBLE) / 10);
  if (m.model === 'cache') {
    parts.sort((a, b) => b.bytes - a.bytes);
    return { bytes: parts.reduce((sum, part) => sum + part.bytes, 0), parts };
  }
  if (m.model !== 'lstm') {
    // repeat blocks: the collapsed tokens and each block's source position, at most T each, and the table [V]
    if (m.repeatBlocks) add('repeat blocks (collapsed corpus, repeat table)', (2 * T + D + 1) * INT + V * DOUBLE);
    // the copy component's fit: mixtures [T][K], then [K][T] mixture and phi, float32, at most the budget
    const fitCells = m.copy ? Math.min(COPY_FIT_BUDGET, Math.ceil(T / 10) * K) : 0;
    add('copy component fit (held-in mixtures and phi)', 3 * fitCells * FLOAT);
    const capacity = Math.min(T, V * K);
    // wordOffsets [V+1] + wordTokens [T]: token positions grouped by action (buildCounts' index)
    add('word index (token positions by action)', (V + 1 + T) * INT);
    // topics [T] and the spare buffer the next sweep writes
    add(`topic assignments (2 x ${T.toLocaleString('en-US')} tokens)`, 2 * T * INT);
    // rowOffsets [V+1], rowTopics/rowCounts [min(T, VK)], topicTotals [K]; a compact copy is kept in the model,
    // and the native sweep packs the rows once more (prob, alias, topic, count per entry)
    add(
      'count tables n_{k,w} (sparse rows, model copy, sweep packing)',
      (V + 1 + 2 * capacity + K) * INT + 2 * capacity * INT + 4 * capacity * INT + V * 16,
    );
    // sparse Vose tables aligned with the rows, the dense table over K, masses
    add('alias tables (word proposals)', capacity * (FLOAT + INT) + V * DOUBLE + K * (FLOAT + INT) + DOUBLE);
    // the native kernel snapshots the ids it indexes with (tokens, offsets, previous topics) for each sweep
    add('kernel call snapshots (ids copied per sweep)', (2 * T + D + 1) * INT);
    // the held-out particle filter: per thread S particles with an LSTM state [S][H] x2 (and [S][K] counts for
    // lda), the log-likelihood per sequence, plus the next-action mixtures of at most 2000 positions
    const perThread = m.particles * (2 * H * FLOAT + K * INT + 2 * DOUBLE + 2 * INT) + 4 * K * DOUBLE;
    add(
      'held-out particle filter',
      Math.max(1, m.threads) * perThread + m.heldOutSequences * DOUBLE + 2000 * K * FLOAT,
    );
  }
  if (m.contextStart && m.model !== 'lda' && m.model !== 'lstm') {
    // features [V][2 x dimensions], and while they are built the neighbours [2][T], the positions by action [T]
    // (64-bit) and the signs [V][2]; k-means' centres and sums [K][2 x dimensions], four distances per action, labels
    const width = 2 * CONTEXT_DIMENSIONS;
    add(
      'context start (action features, k-means)',
      V * width * FLOAT +
        T * (2 * INT + DOUBLE) +
        V * (2 * DOUBLE + 4 * DOUBLE + 3 * INT + DOUBLE) +
        K * width * (FLOAT + DOUBLE),
    );
  }
  if ((m.hmmOrder ?? 0) > 0) {
    // the transition table [(K+1)^order][K] doubles, and the WASM kernels' copy of it
    add('hmm transition table', 2 * (K + 1) ** (m.hmmOrder ?? 0) * K * DOUBLE);
  }
  if (m.model !== 'lda') {
    const inputs = m.model === 'lla' ? K + 1 : V + 1;
    const outputs = m.model === 'lstm' ? V : K;
    const parameters = lstmParameterCount(inputs, m.embedding, H, outputs);
    // weights, Adam's two moments, a gradient of each, and the kernel's fused copy (inputTable [R][4H] ...)
    const cell = inputs * 4 * H + 4 * H * H + 4 * H + outputs * H + outputs;
    add(
      `LSTM weights, gradients and Adam state (${parameters.toLocaleString('en-US')} parameters)`,
      4 * parameters * FLOAT + 2 * cell * FLOAT,
    );
    const rows = Math.max(1, m.batch) * Math.max(1, m.bptt);
    if (m.chooseLookahead && m.model === 'lla' && m.copy) {
      // two snapshots at the switch (lookahead-choice.ts): topics [T], weights and Adam's moments [3P], the visiting
      // order and offsets [2D+1], carried states [B][H] x2; and the first run's final tables, folded (as above)
      const snapshot = T * INT + 3 * parameters * FLOAT + (2 * D + 1) * INT + 2 * m.batch * H * FLOAT;
      const capacity = Math.min(T, V * K);
      add("--lookahead auto (run snapshots, the first run's tables)", 2 * snapshot + (V + 1 + 2 * capacity + K) * INT);
    }
    if (m.lstmEngine === 'kernel') {
      // the kernels' trainer: padded and transposed weight copies and a gradient [P] shared by the call, lla's
      // folded table and its gradient [R][4H]; per block of 8 lanes its steps' gates, states and logits and a
      // gradient of the recurrent and output weights (and of the table); the windows of one call, as int32
      const table = m.model === 'lla';
      const shared = 3 * parameters + (table ? 2 * inputs * 4 * H : 0);
      const steps = Math.max(1, m.bptt) * TRAINER_LANES_PER_BLOCK;
      const block =
        steps * (13 * H + outputs) + 4 * H * H + H * outputs + (table ? inputs * 4 * H : 2 * steps * m.embedding);
      const blocks = Math.ceil(Math.max(1, m.batch) / TRAINER_LANES_PER_BLOCK);
      add(
        'LSTM trainer work space (kernel engine)',
        (shared + blocks * block) * FLOAT + 2 * Math.max(rows, TRAINER_TOKENS_PER_CALL) * INT,
      );
    } else {
      // one TF.js training window of B lanes x L steps: one-hot inputs [BL][R], the logits, softmax and their
      // gradients [BL][O] x4, the gates and states kept for back-propagation [BL][H] x12
      add('TF.js training window (activations and their gradients)', rows * (inputs + 4 * outputs + 12 * H) * FLOAT);
    }
  }
  parts.sort((a, b) => b.bytes - a.bytes);
  return { bytes: parts.reduce((sum, part) => sum + part.bytes, 0), parts };
}

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `--max-memory SIZE`: bytes, or a number with K, M, G or T (powers of 1024; an optional trailing B / iB). */
export function parseMemorySize(text: string, flag = '--max-memory'): number {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const bytes = match ? Number(match[1]) * UNITS[match[2].toUpperCase()] : NaN;
  if (!match || !Number.isFinite(bytes) || bytes <= 0) {
    throw new UsageError(`${flag} must be a size like 512M, 8G or 1.5G (K, M, G, T = powers of 1024), got '${text}'`);
  }
  return Math.floor(bytes);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** The limit when --max-memory is not given: 80% of the machine's memory (the rest for the OS and Node). */
export function defaultMemoryLimit(): number {
  return Math.floor(0.8 * totalmem());
}

/**
 * Refuses (UsageError, exit 2) an estimate above `limit`, naming the estimate, its three biggest parts and the
 * flags that shrink them.
 */
export function checkMemory(estimate: MemoryEstimate, limit: number, limitSource: string): void {
  if (estimate.bytes <= limit) return;
  const biggest = estimate.parts
    .slice(0, 3)
    .map((part) => `${part.name} ${formatBytes(part.bytes)}`)
    .join(', ');
  throw new UsageError(
    `lla train: this run needs about ${formatBytes(estimate.bytes)}, more than ${limitSource} ` +
      `(${formatBytes(limit)}); the biggest parts: ${biggest}. Raise --max-memory if the machine has the memory, or ` +
      'shrink the run: --max-vocab, --min-count, fewer --topics, a smaller --hidden/--batch/--bptt, or a smaller input',
  );
}
