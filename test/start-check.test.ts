// The check of the first-order hmm start (src/train/start-check.ts): the unigram reference is the training tokens'
// exact maximum-likelihood log-likelihood, and the check speaks only after the last first-order hmm sweep.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  START_STRUCTURE_MARGIN,
  checkStart,
  describeStartCheck,
  unigramLogLikelihoodPerToken,
} from '../src/train/start-check.js';
import type { IterationRecord } from '../src/train/sem.js';

const tokens = Int32Array.from([0, 1, 1, 2, 2, 2, 0, 2]);
// counts 2, 2, 4 of 8
const unigram = (2 * Math.log(2 / 8) + 2 * Math.log(2 / 8) + 4 * Math.log(4 / 8)) / 8;

const record = (iteration: number, mode: string, logLikelihoodPerToken: number) =>
  ({ iteration, mode, logLikelihoodPerToken }) as unknown as IterationRecord;

test('the unigram reference is the tokens log-likelihood under their own frequencies', () => {
  assert.ok(Math.abs(unigramLogLikelihoodPerToken(tokens, 4) - unigram) < 1e-12);
  assert.is(unigramLogLikelihoodPerToken(new Int32Array(0), 4), 0);
});

test('structure is found when the last hmm sweep beats the unigram by the margin, not otherwise', () => {
  const history = [record(1, 'hmm', unigram - 1), record(2, 'hmm', unigram + 2 * START_STRUCTURE_MARGIN)];
  const found = checkStart([...history, record(3, 'lla', unigram - 5)], 2, 1, tokens, 4)!;
  assert.is(found.foundStructure, true);
  assert.is(found.hmmLogLikelihoodPerToken, unigram + 2 * START_STRUCTURE_MARGIN);
  assert.is(describeStartCheck(found, 40), null);
  const flat = checkStart([record(1, 'hmm', unigram + START_STRUCTURE_MARGIN / 2)], 1, 1, tokens, 4)!;
  assert.is(flat.foundStructure, false);
  assert.match(describeStartCheck(flat, 40)!, /found no first-order structure.*--init hmm2:100 --iterations 110/);
  assert.match(describeStartCheck(flat, 300)!, /--iterations 310/);
});

test('no check without first-order hmm sweeps, or before the last of them', () => {
  const history = [record(1, 'hmm', unigram + 1)];
  assert.is(checkStart(history, 0, 1, tokens, 4), null);
  assert.is(checkStart(history, 1, 2, tokens, 4), null);
  assert.is(checkStart(history, 3, 1, tokens, 4), null);
  assert.is(checkStart([record(1, 'lda', unigram + 1)], 1, 1, tokens, 4), null);
});

test.run();
