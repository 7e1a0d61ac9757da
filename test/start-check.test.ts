// The check of the first-order hmm start (src/train/start-check.ts): the unigram reference is the training tokens'
// exact maximum-likelihood log-likelihood, the check speaks only after the last first-order hmm sweep, and it
// reports the second-order fallback that runs when that sweep found nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  START_STRUCTURE_MARGIN,
  checkStart,
  describeStartCheck,
  hmmFoundStructure,
  unigramLogLikelihoodPerToken,
} from '../src/train/start-check.js';
import { FALLBACK_MAX_TOPICS } from '../src/train/settings.js';
import type { IterationRecord } from '../src/train/sem.js';

const tokens = Int32Array.from([0, 1, 1, 2, 2, 2, 0, 2]);
// counts 2, 2, 4 of 8
const unigram = (2 * Math.log(2 / 8) + 2 * Math.log(2 / 8) + 4 * Math.log(4 / 8)) / 8;

const record = (iteration: number, mode: string, logLikelihoodPerToken: number) =>
  ({ iteration, mode, logLikelihoodPerToken }) as unknown as IterationRecord;
const firstOrder = (hmmSweeps: number, fallbackSweeps = 0, numTopics = 10) => ({
  hmmSweeps,
  hmmOrder: 1,
  fallbackSweeps,
  numTopics,
});

test('the unigram reference is the tokens log-likelihood under their own frequencies', () => {
  assert.ok(Math.abs(unigramLogLikelihoodPerToken(tokens, 4) - unigram) < 1e-12);
  assert.is(unigramLogLikelihoodPerToken(new Int32Array(0), 4), 0);
});

test('structure is found when the last hmm sweep beats the unigram by the margin, not otherwise', () => {
  const history = [record(1, 'hmm', unigram - 1), record(2, 'hmm', unigram + 2 * START_STRUCTURE_MARGIN)];
  const found = checkStart([...history, record(3, 'lla', unigram - 5)], firstOrder(2, 200), tokens, 4)!;
  assert.is(found.foundStructure, true);
  assert.is(found.hmmLogLikelihoodPerToken, unigram + 2 * START_STRUCTURE_MARGIN);
  assert.is(found.fallback, null, 'no fallback after a start that found structure');
  assert.is(describeStartCheck(found, 40), null);
  const flat = checkStart([record(1, 'hmm', unigram + START_STRUCTURE_MARGIN / 2)], firstOrder(1), tokens, 4)!;
  assert.is(flat.foundStructure, false);
  assert.is(flat.fallback, null, 'the fallback was off');
  assert.match(describeStartCheck(flat, 40)!, /found no first-order structure.*--init hmm2:200 --iterations 220/);
  assert.match(describeStartCheck(flat, 300)!, /--iterations 320/);
  assert.is(hmmFoundStructure(Number.NaN, unigram), false);
});

test('after a start that found nothing: the fallback sweeps, and whether their last one found structure', () => {
  const start = record(2, 'hmm', unigram - 0.1);
  const during = checkStart(
    [record(1, 'hmm', unigram), start, record(3, 'hmm', unigram - 2)],
    firstOrder(2, 3),
    tokens,
    4,
  )!;
  assert.equal(during.fallback, { sweeps: 3, hmmLogLikelihoodPerToken: null, foundStructure: null });
  assert.match(describeStartCheck(during, 40)!, /3 second-order hmm sweeps follow$/);
  const sweeps = [record(3, 'hmm', unigram - 2), record(4, 'hmm', unigram - 1), record(5, 'hmm', unigram + 1)];
  const left = checkStart([start, ...sweeps, record(6, 'lla', unigram + 1)], firstOrder(2, 3), tokens, 4)!;
  assert.equal(left.fallback, { sweeps: 3, hmmLogLikelihoodPerToken: unigram + 1, foundStructure: true });
  assert.match(
    describeStartCheck(left, 40)!,
    /3 second-order hmm sweeps followed \(--init-fallback\) and found structure/,
  );
  sweeps[2] = record(5, 'hmm', unigram);
  const stayed = checkStart([start, ...sweeps], firstOrder(2, 3), tokens, 4)!;
  assert.is(stayed.fallback?.foundStructure, false);
  assert.match(describeStartCheck(stayed, 40)!, /found none either.*--init-fallback N/);
  // above FALLBACK_MAX_TOPICS the fallback's K^3 table is not built: no fallback ran
  assert.is(checkStart([start], firstOrder(2, 3, FALLBACK_MAX_TOPICS + 1), tokens, 4)!.fallback, null);
});

test('no check without first-order hmm sweeps, or before the last of them', () => {
  const history = [record(1, 'hmm', unigram + 1)];
  assert.is(checkStart(history, firstOrder(0), tokens, 4), null);
  assert.is(checkStart(history, { ...firstOrder(1), hmmOrder: 2 }, tokens, 4), null);
  assert.is(checkStart(history, firstOrder(3), tokens, 4), null);
  assert.is(checkStart([record(1, 'lda', unigram + 1)], firstOrder(1), tokens, 4), null);
});

test.run();
