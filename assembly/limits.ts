// The kernel limits of src/kernels/limits-table.ts (KERNEL_LIMITS, where each bound's reason is given). The wrapper
// (src/kernels/limits.ts) refuses anything outside them before a call, so the kernels here may rely on them: ids
// and positions fit i32, per-thread scratch of [K] and [S][H] stays well inside the 4 GiB memory. Exported so that
// test/limits.test.ts can compare them with the TypeScript table: change a bound there and here together.

export const LIMIT_TOPICS_MIN: i32 = 1;
export const LIMIT_TOPICS_MAX: i32 = 1 << 20;
export const LIMIT_VOCABULARY_MIN: i32 = 1;
export const LIMIT_VOCABULARY_MAX: i32 = 1 << 24;
export const LIMIT_TOKENS_MIN: i32 = 0;
export const LIMIT_TOKENS_MAX: i32 = i32.MAX_VALUE - 1;
export const LIMIT_SEQUENCES_MIN: i32 = 0;
export const LIMIT_SEQUENCES_MAX: i32 = i32.MAX_VALUE - 1;
export const LIMIT_HIDDEN_MIN: i32 = 1;
export const LIMIT_HIDDEN_MAX: i32 = 4096;
export const LIMIT_EMBEDDING_MIN: i32 = 1;
export const LIMIT_EMBEDDING_MAX: i32 = 4096;
export const LIMIT_LANES_MIN: i32 = 1;
export const LIMIT_LANES_MAX: i32 = 1 << 16;
export const LIMIT_STEPS_MIN: i32 = 1;
export const LIMIT_STEPS_MAX: i32 = 1 << 16;
export const LIMIT_LEARNING_RATE_MIN: f64 = 1e-30;
export const LIMIT_LEARNING_RATE_MAX: f64 = 1e30;
export const LIMIT_PARTICLES_MIN: i32 = 1;
export const LIMIT_PARTICLES_MAX: i32 = 1 << 16;
export const LIMIT_MH_STEPS_MIN: i32 = 1;
export const LIMIT_MH_STEPS_MAX: i32 = 1000;
export const LIMIT_THREADS_MIN: i32 = 0;
export const LIMIT_THREADS_MAX: i32 = 1024;
export const LIMIT_BETA_MIN: f64 = 1e-100;
export const LIMIT_BETA_MAX: f64 = 1e100;
export const LIMIT_ALPHA_MIN: f64 = 1e-100;
export const LIMIT_ALPHA_MAX: f64 = 1e100;
export const LIMIT_SEQUENCE_SMOOTHING_MIN: f64 = 1e-100;
export const LIMIT_SEQUENCE_SMOOTHING_MAX: f64 = 1e100;
export const LIMIT_COPY_WINDOW_MIN: i32 = 1;
export const LIMIT_COPY_WINDOW_MAX: i32 = 1 << 16;
export const LIMIT_COPY_DECAY_MIN: f64 = 0;
export const LIMIT_COPY_DECAY_MAX: f64 = 1;
// seeds, iterations and stream indices
export const LIMIT_SEED_MIN: i64 = 0;
export const LIMIT_SEED_MAX: i64 = (<i64>1 << 53) - 1;
