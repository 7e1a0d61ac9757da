// TF.js's Adam, float32 operation for operation, as native/adam.cc (see native/adam.h for the formulas): wasm has
// no fused multiply-add, so every operation rounds as TF.js's do.

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-7;
// TF.js computes 1 - beta in float64 and rounds the scalar to float32
const ONE_MINUS_BETA1: f32 = <f32>(1.0 - 0.9);
const ONE_MINUS_BETA2: f32 = <f32>(1.0 - 0.999);

/** parameters, first and second moments [count] updated in place from gradient [count]. */
export function adamUpdate(parameters: usize, firstMoments: usize, secondMoments: usize, gradient: usize, count: i32,
  learningRate: f32, beta1Power: f32, beta2Power: f32): void {
  const firstCorrection: f32 = 1.0 - beta1Power;
  const secondCorrection: f32 = 1.0 - beta2Power;
  const step: f32 = -learningRate;
  for (let p = 0; p < count; p++) {
    const offset = <usize>p << 2;
    const g = load<f32>(gradient + offset);
    const m = load<f32>(firstMoments + offset) * BETA1 + g * ONE_MINUS_BETA1;
    const v = load<f32>(secondMoments + offset) * BETA2 + (g * g) * ONE_MINUS_BETA2;
    store<f32>(firstMoments + offset, m);
    store<f32>(secondMoments + offset, v);
    store<f32>(parameters + offset, (m / firstCorrection) / (Mathf.sqrt(v / secondCorrection) + EPSILON) * step +
      load<f32>(parameters + offset));
  }
}

/** beta1Power after one more step (a float32 product, as TF.js's accBeta1). */
export function nextBeta1Power(power: f32): f32 {
  return power * BETA1;
}

export function nextBeta2Power(power: f32): f32 {
  return power * BETA2;
}
