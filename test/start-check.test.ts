// The check of the first-order hmm start (src/train/start-check.ts): the unigram reference is the training tokens'
// exact maximum-likelihood log-likelihood, the check speaks only after the last first-order hmm sweep, and it
// reports the second-order fallback that runs when that sweep found nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  START_STRUCTURE_MARGIN,
  checkStart,
  describeStartCheck,
  fallbackSweepsTaken,
  hmmFoundStructure,
  unigramLogLikelihoodPerToken,
} from '../src/train/start-check.js';
import type { IterationRecord } from '../src/train/sem.js';

const tokens = Int32Array.from([0, 1, 1, 2, 2, 2, 0, 2]);
// counts 2, 2, 4 of 8
const unigram = (2 * Math.log(2 / 8) + 2 * Math.log(2 / 8) + 4 * Math.log(4 / 8)) / 8;

// planned: the run's plannedIterations after this record (SemState grows it when it takes the fallback)
const record = (iteration: number, mode: string, logLikelihoodPerToken: number, planned = 40) =>
  ({ iteration, mode, logLikelihoodPerToken, plannedIterations: planned }) as unknown as IterationRecord;

test('the unigram reference is the tokens log-likelihood under their own frequencies', () => {
  assert.ok(Math.abs(unigramLogLikelihoodPerToken(tokens, 4) - unigram) < 1e-12);
  assert.is(unigramLogLikelihoodPerToken(new Int32Array(0), 4), 0);
});

test('structure is found when the last hmm sweep beats the unigram by the margin, not otherwise', () => {
  const history = [record(1, 'hmm', unigram - 1), record(2, 'hmm', unigram + 2 * START_STRUCTURE_MARGIN)];
  const found = checkStart([...history, record(3, 'lla', unigram - 5)], 2, 1, tokens, 4)!;
  assert.is(found.foundStructure, true);
  assert.is(found.hmmLogLikelihoodPerToken, unigram + 2 * START_STRUCTURE_MARGIN);
  assert.is(found.fallback, null, 'no fallback after a start that found structure');
  assert.is(describeStartCheck(found, 40), null);
  const flat = checkStart([record(1, 'hmm', unigram + START_STRUCTURE_MARGIN / 2)], 1, 1, tokens, 4)!;
  assert.is(flat.foundStructure, false);
  assert.is(flat.fallback, null, 'the plan did not grow: no fallback ran (off, or too many topics)');
  assert.match(describeStartCheck(flat, 40)!, /found no first-order structure.*--init hmm2:200 --iterations 220/);
  assert.match(describeStartCheck(flat, 300)!, /--iterations 320/);
  assert.is(hmmFoundStructure(Number.NaN, unigram), false);
});

test('after a start that found nothing: the fallback sweeps, and whether their last one found structure', () => {
  // 4 iterations planned; the start's last sweep (2) grew the plan by 3 fallback sweeps
  const start = [record(1, 'hmm', unigram, 4), record(2, 'hmm', unigram - 0.1, 7)];
  const during = checkStart([...start, record(3, 'hmm', unigram - 2, 7)], 2, 1, tokens, 4)!;
  assert.equal(during.fallback, { sweeps: 3, hmmLogLikelihoodPerToken: null, foundStructure: null });
  assert.match(describeStartCheck(during, 40)!, /3 second-order hmm sweeps follow$/);
  const sweeps = [record(3, 'hmm', unigram - 2, 7), record(4, 'hmm', unigram - 1, 7), record(5, 'hmm', unigram + 1, 7)];
  const left = checkStart([...start, ...sweeps, record(6, 'lla', unigram + 1, 7)], 2, 1, tokens, 4)!;
  assert.equal(left.fallback, { sweeps: 3, hmmLogLikelihoodPerToken: unigram + 1, foundStructure: true });
  assert.match(
    describeStartCheck(left, 40)!,
    /3 second-order hmm sweeps followed \(--init-fallback\) and found structure/,
  );
  sweeps[2] = record(5, 'hmm', unigram, 7);
  const stayed = checkStart([...start, ...sweeps], 2, 1, tokens, 4)!;
  assert.is(stayed.fallback?.foundStructure, false);
  assert.match(describeStartCheck(stayed, 40)!, /found none either.*--init-fallback N/);
});

test('the fallback taken is what the records planned: none for records without a plan (older runs)', () => {
  assert.is(fallbackSweepsTaken([]), 0);
  assert.is(fallbackSweepsTaken([record(1, 'hmm', 0, 4), record(2, 'hmm', 0, 4)]), 0);
  assert.is(fallbackSweepsTaken([record(1, 'hmm', 0, 4), record(2, 'hmm', 0, 204)]), 200);
  const older = { iteration: 1, mode: 'hmm', logLikelihoodPerToken: 0 } as unknown as IterationRecord;
  assert.is(fallbackSweepsTaken([older, older]), 0);
});

test('no check without first-order hmm sweeps, or before the last of them', () => {
  const history = [record(1, 'hmm', unigram + 1)];
  assert.is(checkStart(history, 0, 1, tokens, 4), null);
  assert.is(checkStart(history, 1, 2, tokens, 4), null);
  assert.is(checkStart(history, 3, 1, tokens, 4), null);
  assert.is(checkStart([record(1, 'lda', unigram + 1)], 1, 1, tokens, 4), null);
});

test.run();
