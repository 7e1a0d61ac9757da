// Byte offsets of the parameter blocks that the TypeScript wrapper writes into linear memory before a call
// (mirrored in src/kernels/wasm-layout.ts). A block keeps exported signatures short and lets every worker
// thread read the same arguments from the shared memory. The module exports every constant here (index.ts), and
// test/wasm-layout.test.ts compares them with the wrapper's copy.

import { Cell } from './lstm_cell';

// Sweep parameters. Pointers are u32 byte addresses; 0 = absent.
export const SWEEP_MODE = 0;             // i32 0 lda, 1 lla, 2 word-lla
export const SWEEP_EXACT = 4;            // i32 0/1
export const SWEEP_MH_STEPS = 8;         // i32
export const SWEEP_PROPOSALS = 12;       // i32 bit 1 word, bit 2 sequence
export const SWEEP_TOPICS = 16;          // i32 K
export const SWEEP_VOCABULARY = 20;      // i32 V
export const SWEEP_SEQUENCES = 24;       // i32 D
export const SWEEP_TOKENS = 28;          // i32 [T]
export const SWEEP_OFFSETS = 32;         // i32 [D+1]
export const SWEEP_TOPICS_PREV = 36;     // i32 [T]
export const SWEEP_TOPICS_NEXT = 40;     // i32 [T]
export const SWEEP_ROW_OFFSETS = 44;     // i32 [V+1]
export const SWEEP_ROW_TOPICS = 48;      // i32 [nnz]
export const SWEEP_ROW_COUNTS = 52;      // i32 [nnz]
export const SWEEP_TOPIC_TOTALS = 56;    // i32 [K]
export const SWEEP_SPARSE_PROB = 60;     // f32 [nnz]
export const SWEEP_SPARSE_ALIAS = 64;    // i32 [nnz]
export const SWEEP_SPARSE_MASS = 68;     // f64 [V]
export const SWEEP_DENSE_PROB = 72;      // f32 [K]
export const SWEEP_DENSE_ALIAS = 76;     // i32 [K]
export const SWEEP_DENSE_MASS = 80;      // f64 [1]
export const SWEEP_CELL = 84;            // Cell struct, 0 for lda
export const SWEEP_INVERSE_TOTALS = 88;  // f64 [K] 1 / (n_k + V beta)
export const SWEEP_PER_SEQUENCE = 92;    // f64 [D][3] output: logPhi, proposals made, proposals accepted
export const SWEEP_BETA = 96;            // f64
export const SWEEP_ALPHA = 104;          // f64
export const SWEEP_SMOOTHING = 112;      // f64 a of the sequence proposal
export const SWEEP_SEED = 120;           // u64
export const SWEEP_ITERATION = 128;      // u64
export const SWEEP_HASH_ROWS = 136;      // i32 [V][2] count hash table of each action: first slot, shift (count_hash.ts)
export const SWEEP_HASH_SLOTS = 140;     // i32 [slots][2] topic (-1 empty), n_{k,w}
export const SWEEP_FIRST_SEQUENCE = 144; // u64 stream index of sequence 0 of this call (a corpus swept in chunks)
export const SWEEP_LOOKAHEAD = 152;      // i32 0/1 (lla, hmm): the next topic's factor in each target
export const SWEEP_TRANSITIONS = 156;    // f64 hmm: [(K+1)^order][K] p(k | the topics before), K the begin symbol; else 0
export const SWEEP_TRANSITION_ORDER = 160; // i32 hmm: 1 or 2
export const SWEEP_BYTES = 168;

// Particle filter parameters.
export const FILTER_MODE = 0;            // i32
export const FILTER_TOPICS = 4;          // i32 K
export const FILTER_VOCABULARY = 8;      // i32 V
export const FILTER_SEQUENCES = 12;      // i32 D
export const FILTER_TOKENS = 16;         // i32 [T]
export const FILTER_OFFSETS = 20;        // i32 [D+1]
export const FILTER_ROW_OFFSETS = 24;    // i32 [V+1]
export const FILTER_ROW_TOPICS = 28;     // i32 [nnz]
export const FILTER_ROW_COUNTS = 32;     // i32 [nnz]
export const FILTER_CELL = 36;           // Cell struct, 0 for lda
export const FILTER_INVERSE_TOTALS = 40; // f64 [K] 1 / (n_k + V beta)
export const FILTER_PARTICLES = 44;      // i32 S
export const FILTER_LOG_LIKELIHOOD = 48; // f64 [D] output
export const FILTER_MIXTURE_POSITIONS = 52; // i32 [P] ascending global token positions
export const FILTER_MIXTURE_COUNT = 56;  // i32 P
export const FILTER_MIXTURES = 60;       // f32 [P][K] output
export const FILTER_BETA = 64;           // f64
export const FILTER_ALPHA = 72;          // f64
export const FILTER_SEED = 80;           // u64
export const FILTER_FIRST_SEQUENCE = 88; // u64 stream index of sequence 0 of this call (a corpus run in chunks)
export const FILTER_COPY_RATE = 96;      // f64 [K] rho_k of the copy component (copy.ts)
export const FILTER_COPY_MASS = 100;     // f64 [K] mu_k
export const FILTER_COPY_WINDOW = 104;   // i32 the copy history's length; 0: no copy component
export const FILTER_REPEAT = 108;        // f64 [V][R] r(w, L) of the repeat blocks (likelihood.ts); 0: no blocks
export const FILTER_COPY_DECAY = 112;    // f64
export const FILTER_REPEAT_RUNS = 120;   // i32 R of the repeat table (1 .. 64)
export const FILTER_BYTES = 128;

// Parameters of the row-range jobs (countRowsRange, aliasRowsRange, countHashRange): several threads each take
// ranges of actions [first, end). One block layout serves the three; each reads only its own fields.
export const ROWS_ROW_OFFSETS = 0;       // i32 [V+1]
export const ROWS_ROW_TOPICS = 4;        // i32 [capacity]
export const ROWS_ROW_COUNTS = 8;        // i32 [capacity]
export const ROWS_TOPIC_TOTALS = 12;     // i32 [K]
export const ROWS_TOPICS = 16;           // i32 K
export const ROWS_VOCABULARY = 20;       // i32 V
export const ROWS_TOKENS = 24;           // counts: i32 [T] action of each position
export const ROWS_WORD_OFFSETS = 28;     // counts: i32 [V+1] positions of action w: wordTokens[wordOffsets[w] ..]
export const ROWS_WORD_TOKENS = 32;      // counts: i32 [T]
export const ROWS_ASSIGNMENTS = 36;      // counts: i32 [T] topic of each position
export const ROWS_ERROR = 40;            // counts: i32 output, the error code of a failed range (0 = none)
export const ROWS_SPARSE_PROB = 44;      // alias: f32 [nnz]
export const ROWS_SPARSE_ALIAS = 48;     // alias: i32 [nnz]
export const ROWS_SPARSE_MASS = 52;      // alias: f64 [V]
export const ROWS_HASH_ROWS = 56;        // hash: i32 [V][2]
export const ROWS_HASH_SLOTS = 60;       // hash: i32 [slots][2]
export const ROWS_BETA = 64;             // alias: f64
export const ROWS_BYTES = 72;

export const MODE_LDA = 0;
export const MODE_LLA = 1;
export const MODE_WORD_LLA = 2;
export const MODE_HMM = 3;
export const PROPOSAL_WORD = 1;
export const PROPOSAL_SEQUENCE = 2;

// LSTM trainer parameters (lstm_train.ts; mirrored in src/kernels/wasm-train-windows.ts). Pointers are u32 byte
// addresses; 0 = absent.
export const TRAIN_SYMBOLS = 0;          // i32 R (the begin symbol is R-1)
export const TRAIN_EMBEDDING = 4;        // i32 E
export const TRAIN_HIDDEN = 8;           // i32 H
export const TRAIN_OUTPUTS = 12;         // i32 K
export const TRAIN_TABLE = 16;           // i32 1: folded input table (lla), 0: gathered embedding rows (word-lla)
export const TRAIN_LANES = 20;           // i32 B
export const TRAIN_STEPS = 24;           // i32 L
export const TRAIN_WINDOW = 28;          // i32 the window being trained (0 .. N-1)
export const TRAIN_INPUTS = 32;          // i32 [N][L][B]
export const TRAIN_TARGETS = 36;         // i32 [N][L][B], -1 padding
export const TRAIN_PARAMETERS = 40;      // f32 [P]
export const TRAIN_MOMENTS = 44;         // f32 [2][P]
export const TRAIN_ADAM = 48;            // f64 [3] steps, beta1Power, beta2Power
export const TRAIN_HIDDEN_STATE = 52;    // f32 [B][H]
export const TRAIN_CELL_STATE = 56;      // f32 [B][H]
export const TRAIN_LOSSES = 60;          // f64 [N] output
export const TRAIN_GRADIENT = 64;        // f32 [P] output of the last window, or 0
export const TRAIN_SHARED = 68;          // the call's shared work space (trainSharedBytes, zero-filled)
export const TRAIN_BLOCKS = 72;          // the blocks' work spaces (trainBlockBytes each, zero-filled)
export const TRAIN_WINDOWS = 76;         // i32 N
export const TRAIN_TOKENS = 80;          // i32 real tokens of the current window (written by trainPrepare)
export const TRAIN_SCALE = 84;           // f32 1 / max(1, tokens) (written by trainPrepare)
export const TRAIN_LEARNING_RATE = 88;   // f32
export const TRAIN_BYTES = 96;

// The Cell struct of lstm_cell.ts (CellWeights in linear memory), as compiled.
export const CELL_HIDDEN = offsetof<Cell>('hidden');
export const CELL_INPUT_TABLE = offsetof<Cell>('inputTable');
export const CELL_RECURRENT = offsetof<Cell>('recurrent');
export const CELL_GATE_BIAS = offsetof<Cell>('gateBias');
export const CELL_OUTPUT_WEIGHTS = offsetof<Cell>('outputWeights');
export const CELL_OUTPUT_BIAS = offsetof<Cell>('outputBias');
export const CELL_BYTES = offsetof<Cell>();
