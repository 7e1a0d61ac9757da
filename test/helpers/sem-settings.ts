// SemState settings for the suites that drive the SEM schedule directly (backends-agree, sem-fallback): the
// sampler's defaults, one LSTM token per M-step (these suites train no LSTM), no initialisation unless asked.
import type { SemSettings } from '../../src/train/sem.js';

export function semSettings(
  given: Pick<SemSettings, 'model' | 'numTopics' | 'vocabularySize' | 'iterations' | 'seed' | 'threads'> &
    Partial<SemSettings>,
): SemSettings {
  return {
    initLdaSweeps: 0,
    initHmmSweeps: 0,
    initHmmOrder: 1,
    initFallbackSweeps: 0,
    mhSteps: 2,
    exact: false,
    initExact: false,
    lookahead: false,
    proposals: 'cycle',
    alpha: 0.1,
    beta: 0.01,
    sequenceSmoothing: 0.1,
    lstmTokens: 1,
    bptt: 1,
    batch: 1,
    ...given,
  };
}
