// --tol (issue 12 item 4): the convergence test on a history of training log-likelihoods, and `lla train` on the
// embedded sample log stopping early with --tol and saying why (result JSON, text output, the model's history),
// while --tol 0 runs every iteration.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONVERGENCE_WINDOW, convergenceTest, likelihoodImprovement } from '../src/train/convergence.js';
import type { IterationRecord } from '../src/train/sem.js';
import { readModelFile } from '../src/io/format-read.js';
import { lastJson, projectRoot, runCli } from './helpers/cli.js';

const SAMPLE = join(projectRoot, 'data', 'sample-events.tsv.gz');

function history(values: number[], mode = 'lla', lda = 0): IterationRecord[] {
  return [...Array.from({ length: lda }, () => -9), ...values].map(
    (value, index) =>
      ({
        iteration: index + 1,
        mode: index < lda ? 'lda' : mode,
        seconds: 0,
        estepSeconds: 0,
        mstepSeconds: 0,
        estepTokensPerSecond: 0,
        mstepTokensPerSecond: null,
        logLikelihoodPerToken: value,
        logPhiPerToken: 0,
        lstmLoss: null,
        acceptanceRate: null,
      }) as IterationRecord,
  );
}

test("the improvement compares the mean of the last window with the window before, over the model's iterations only", () => {
  const W = CONVERGENCE_WINDOW;
  // too few iterations of the model: no verdict (the lda initialisation sweeps do not count)
  assert.is(likelihoodImprovement(history(Array(2 * W - 1).fill(-5), 'lla', 10), 'lla'), null);
  const rising = Array.from({ length: 2 * W }, (_, i) => -6 + 0.1 * i);
  const improvement = likelihoodImprovement(history(rising, 'lla', 3), 'lla')!;
  const recent = rising.slice(W).reduce((a, b) => a + b, 0) / W;
  const before = rising.slice(0, W).reduce((a, b) => a + b, 0) / W;
  assert.ok(Math.abs(improvement - (recent - before) / Math.abs(recent)) < 1e-12);
  assert.ok(improvement > 0);
  assert.not.ok(convergenceTest(history(rising), 'lla', 0.01).converged, 'still improving by about 5%');
  assert.ok(convergenceTest(history(rising), 'lla', 0.1).converged);
  // a flat or falling likelihood has converged for any tol > 0, and never with tol 0
  const flat = Array(2 * W).fill(-5);
  assert.ok(convergenceTest(history(flat), 'lla', 1e-6).converged);
  assert.not.ok(convergenceTest(history(flat), 'lla', 0).converged);
});

test('lla train --tol stops once converged and says why; --tol 0 runs every iteration', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'lla-tol-'));
  try {
    const args = [
      'train',
      SAMPLE,
      '--model',
      'lla',
      '--topics',
      '8',
      '--iterations',
      '30',
      '--init',
      'lda:2',
      '--lstm-tokens',
      '3000',
      '--hidden',
      '16',
      '--embedding',
      '8',
      '--particles',
      '4',
      '--seed',
      '5',
      '--top',
      '0',
    ];
    const out = join(folder, 'converged.lla');
    const converged = await runCli([...args, '--tol', '0.2', '--out', out, '--json']);
    assert.is(converged.code, 0, converged.stderr);
    const result = lastJson(converged);
    assert.is(result.stopReason, 'converged');
    // the earliest the test can pass: the initialisation, then two windows of the model's own iterations
    assert.is(result.iterations, 2 + 2 * CONVERGENCE_WINDOW);
    assert.ok(result.stop.improvement < 0.2, `improvement ${result.stop.improvement}`);
    const saved = readModelFile(out).header as { history: IterationRecord[] };
    assert.is(saved.history.length, result.iterations);
    assert.is(saved.history.at(-1)!.stop?.reason, 'converged', "the model's history says why training stopped");

    const text = await runCli([...args, '--tol', '0.2']);
    assert.is(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /stopped\s+converged: log-likelihood per token [+-][\d.]+% over the last 3 iterations < --tol 20%/,
    );

    const all = await runCli([...args, '--iterations', '10', '--tol', '0', '--json']);
    assert.is(all.code, 0, all.stderr);
    assert.is(lastJson(all).iterations, 10);
    assert.is(lastJson(all).stopReason, 'iterations');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test.run();
