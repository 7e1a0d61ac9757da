// Checkpoints and --resume (SPEC section 6, issue 5 point 2), through the real command line on the embedded sample
// event log: a run killed with SIGKILL after its third iteration resumes from a later iteration and ends with a
// model `lla eval` accepts; for lda (integer counts, per-sequence random streams) an interrupted-then-resumed
// run gives exactly the model of an uninterrupted one, and so does lla, whose checkpoint also holds the LSTM
// trainer's state (Adam's moments, the visiting order, the carried states); Ctrl-C (SIGINT) finishes the sweep, writes the checkpoint
// and exits 130.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModelFile } from '../src/io/format-read.js';
import { writeModelFile } from '../src/io/format-write.js';
import { assertSameSections, sectionBytes } from './helpers/model-sections.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const folder = mkdtempSync(join(tmpdir(), 'lla-resume-'));
const SAMPLE = join(root, 'data', 'sample-events.tsv.gz');
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.LLA_BACKEND;
delete env.LLA_TF_BACKEND;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the per-iteration JSON lines (those with an `iteration` and a `mode`) */
  iterations: Array<Record<string, any>>;
  /** the final result object, when the run finished */
  result: Record<string, any> | null;
}

/**
 * Runs `lla ...argv`; `onIteration(record, child)` sees each iteration's JSON line as it is printed (to kill the
 * process at a chosen point).
 */
function runLla(
  argv: string[],
  onIteration?: (record: Record<string, any>, kill: (signal: NodeJS.Signals) => void) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'lla.js'), ...argv], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const iterations: Array<Record<string, any>> = [];
    let result: Record<string, any> | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line.startsWith('{')) continue;
        const record = JSON.parse(line);
        if (typeof record.iteration === 'number' && typeof record.mode === 'string') {
          iterations.push(record);
          onIteration?.(record, (signal) => child.kill(signal));
        } else {
          result = record;
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, iterations, result }));
  });
}

function runEval(model: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'lla.js'), 'eval', model, SAMPLE, '--json', '--particles', '4'],
      { cwd: root, env, maxBuffer: 1 << 24 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Small but real settings: 20 topics over the sample log's 57k training tokens, about 0.1-0.3 s per iteration. */
const LLA_ARGS = [
  '--model',
  'lla',
  '--topics',
  '20',
  '--iterations',
  '10',
  '--init',
  'lda:2',
  '--lstm-tokens',
  '4000',
  '--hidden',
  '16',
  '--embedding',
  '8',
  '--particles',
  '4',
  '--seed',
  '5',
];
/** lla kept small for exact-equality runs (done three times): 8 topics, 2 lda sweeps then 4 lla iterations. */
const LLA_EXACT_ARGS = [
  '--model',
  'lla',
  '--topics',
  '8',
  '--iterations',
  '6',
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
  '--threads',
  '1',
];
/** lla with the hmm initialisation, to be killed during it: the context start, 3 hmm sweeps, then 3 lla iterations. */
const LLA_HMM_ARGS = LLA_EXACT_ARGS.map((arg, i) => (LLA_EXACT_ARGS[i - 1] === '--init' ? 'hmm:3' : arg));
const LDA_ARGS = ['--model', 'lda', '--topics', '20', '--iterations', '12', '--particles', '4', '--seed', '5'];

const resume = suite('checkpoints and --resume');

resume.after(() => rmSync(folder, { recursive: true, force: true }));

resume(
  'lla: killed with SIGKILL after iteration 3, --resume continues from a later iteration and eval accepts the model',
  async () => {
    const out = join(folder, 'lla-killed.lla');
    const argv = ['train', SAMPLE, ...LLA_ARGS, '--checkpoint-every', '1', '--out', out, '--json'];
    let killedAfter = 0;
    const killed = await runLla(argv, (record, kill) => {
      if (record.iteration === 3 && killedAfter === 0) {
        killedAfter = 3;
        kill('SIGKILL');
      }
    });
    assert.is(killed.signal, 'SIGKILL', `the run should have been killed: exit ${killed.code}, ${killed.stderr}`);
    assert.is(killedAfter, 3);
    assert.not.ok(existsSync(out), 'a killed run writes no model');
    assert.ok(existsSync(`${out}.ckpt`), 'the checkpoint of an earlier iteration survives the kill');

    const resumed = await runLla([...argv, '--resume']);
    assert.is(resumed.code, 0, resumed.stderr);
    const first = resumed.iterations[0];
    assert.ok(first.iteration > 1, `the resumed run started at iteration ${first.iteration}`);
    assert.ok(
      first.iteration >= 3,
      `checkpoints are written every iteration: at least iteration 2 was saved, resumed at ${first.iteration}`,
    );
    assert.is(resumed.iterations.at(-1)!.iteration, 10);
    assert.is(resumed.result!.resumedIterations, first.iteration - 1);
    assert.ok(existsSync(out));
    assert.not.ok(existsSync(`${out}.ckpt`), 'a finished run removes its checkpoint');

    const evaluated = await runEval(out);
    assert.is(evaluated.code, 0, evaluated.stderr);
    const metrics = JSON.parse(evaluated.stdout);
    assert.is(metrics.model, 'lla');
    assert.ok(Number.isFinite(metrics.perplexity) && metrics.perplexity > 1, `perplexity ${metrics.perplexity}`);
  },
);

resume('lda: an interrupted (SIGKILL) then resumed run gives exactly the uninterrupted model', async () => {
  const whole = join(folder, 'lda-whole.lla');
  const uninterrupted = await runLla(['train', SAMPLE, ...LDA_ARGS, '--out', whole, '--json']);
  assert.is(uninterrupted.code, 0, uninterrupted.stderr);

  const pieces = join(folder, 'lda-pieces.lla');
  const argv = ['train', SAMPLE, ...LDA_ARGS, '--checkpoint-every', '1', '--out', pieces, '--json'];
  const killed = await runLla(argv, (record, kill) => {
    if (record.iteration === 4) kill('SIGKILL');
  });
  assert.is(killed.signal, 'SIGKILL', killed.stderr);
  const resumed = await runLla([...argv, '--resume']);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.ok(resumed.iterations[0].iteration > 1);

  // the per-iteration training log-likelihood of every iteration after the resume point is the same
  for (const record of resumed.iterations) {
    const reference = uninterrupted.iterations[record.iteration - 1];
    assert.is(record.logLikelihoodPerToken, reference.logLikelihoodPerToken, `iteration ${record.iteration}`);
  }
  assert.is(resumed.result!.heldOutPerplexity, uninterrupted.result!.heldOutPerplexity);
  assertSameSections(whole, pieces);
});

resume(
  'lla: an interrupted (SIGKILL) then resumed run gives exactly the uninterrupted model; an old checkpoint still resumes',
  async () => {
    const whole = join(folder, 'lla-whole.lla');
    const uninterrupted = await runLla(['train', SAMPLE, ...LLA_EXACT_ARGS, '--out', whole, '--json']);
    assert.is(uninterrupted.code, 0, uninterrupted.stderr);

    const pieces = join(folder, 'lla-pieces.lla');
    const argv = ['train', SAMPLE, ...LLA_EXACT_ARGS, '--checkpoint-every', '1', '--out', pieces, '--json'];
    const killed = await runLla(argv, (record, kill) => {
      if (record.iteration === 3) kill('SIGKILL');
    });
    assert.is(killed.signal, 'SIGKILL', killed.stderr);
    // the checkpoint carries the trainer state beside the weights; keep a copy without it (as older lla wrote)
    const checkpoint = readModelFile(`${pieces}.ckpt`, { expectKind: 'checkpoint' });
    assert.ok(
      (checkpoint.header as Record<string, unknown>).lstmTrainer !== undefined,
      'the checkpoint holds lstmTrainer',
    );
    assert.ok(checkpoint.sections.lstmAdamMoments instanceof Float32Array, "the checkpoint holds Adam's moments");
    const old = join(folder, 'lla-old.lla');
    const { lstmTrainer: _dropped, ...oldHeader } = checkpoint.header as Record<string, unknown>;
    const oldSections = Object.fromEntries(
      Object.entries(checkpoint.sections).filter(([name]) => name === 'topics' || name === 'lstm'),
    );
    writeModelFile(`${old}.ckpt`, { kind: 'checkpoint', header: oldHeader, sections: oldSections });
    // and one whose Adam moments were cut short: refused with a message naming the file, not a crash
    const damaged = join(folder, 'lla-damaged.lla');
    const moments = checkpoint.sections.lstmAdamMoments as Float32Array;
    writeModelFile(`${damaged}.ckpt`, {
      kind: 'checkpoint',
      header: checkpoint.header,
      sections: { ...checkpoint.sections, lstmAdamMoments: moments.subarray(0, moments.length - 1) },
    });

    const resumed = await runLla([...argv, '--resume']);
    assert.is(resumed.code, 0, resumed.stderr);
    const from = resumed.iterations[0].iteration;
    assert.ok(from >= 3 && from <= 4, `resumed at iteration ${from}: a checkpoint of iteration 2 or 3 was saved`);
    for (const record of resumed.iterations) {
      const reference = uninterrupted.iterations[record.iteration - 1];
      assert.is(record.lstmLoss, reference.lstmLoss, `LSTM loss of iteration ${record.iteration}`);
      assert.is(record.logLikelihoodPerToken, reference.logLikelihoodPerToken, `iteration ${record.iteration}`);
    }
    assert.is(resumed.result!.heldOutPerplexity, uninterrupted.result!.heldOutPerplexity);
    assertSameSections(whole, pieces);

    // an older checkpoint (weights and topics only) resumes too, restarting Adam and the visiting order: its LSTM
    // then ends elsewhere, which shows the saved trainer state is what makes the resumed run exact
    const oldResumed = await runLla([
      'train',
      SAMPLE,
      ...LLA_EXACT_ARGS,
      '--checkpoint-every',
      '1',
      '--out',
      old,
      '--json',
      '--resume',
    ]);
    assert.is(oldResumed.code, 0, oldResumed.stderr);
    assert.is(oldResumed.iterations[0].iteration, from);
    assert.is(oldResumed.iterations.at(-1)!.iteration, 6);
    assert.not.ok(
      sectionBytes(old).lstm.equals(sectionBytes(whole).lstm),
      'without the trainer state the LSTM weights should differ',
    );

    const refused = await runLla(['train', SAMPLE, ...LLA_EXACT_ARGS, '--out', damaged, '--json', '--resume']);
    assert.is.not(refused.code, 0);
    assert.match(refused.stderr, /lla-damaged\.lla\.ckpt.*trainer state/);
    assert.not.match(refused.stderr, /^\s+at /m, 'no stack trace');
  },
);

resume(
  'lla --init hmm:3: killed during the hmm sweeps, resumed, gives exactly the uninterrupted model; a checkpoint from before lookahead resumes only as what it was',
  async () => {
    const whole = join(folder, 'hmm-whole.lla');
    const uninterrupted = await runLla(['train', SAMPLE, ...LLA_HMM_ARGS, '--out', whole, '--json']);
    assert.is(uninterrupted.code, 0, uninterrupted.stderr);
    assert.equal(
      uninterrupted.iterations.map((record) => record.mode),
      ['hmm', 'hmm', 'hmm', 'lla', 'lla', 'lla'],
    );
    const pieces = join(folder, 'hmm-pieces.lla');
    const argv = ['train', SAMPLE, ...LLA_HMM_ARGS, '--checkpoint-every', '1', '--out', pieces, '--json'];
    const killed = await runLla(argv, (record, kill) => {
      if (record.iteration === 2) kill('SIGKILL');
    });
    assert.is(killed.signal, 'SIGKILL', killed.stderr);
    // a copy of the checkpoint as lla wrote it before lookahead and the hmm start existed
    const checkpoint = readModelFile(`${pieces}.ckpt`, { expectKind: 'checkpoint' });
    const header = checkpoint.header as { settings: Record<string, unknown> };
    const {
      lookahead: _l,
      contextStart: _c,
      initHmmSweeps: _h,
      initHmmOrder: _o,
      initExact: _e,
      ...olderSettings
    } = header.settings;
    const older = join(folder, 'hmm-older.lla');
    writeModelFile(`${older}.ckpt`, {
      kind: 'checkpoint',
      header: { ...header, settings: olderSettings },
      sections: checkpoint.sections,
    });

    const resumed = await runLla([...argv, '--resume']);
    assert.is(resumed.code, 0, resumed.stderr);
    assert.ok(
      resumed.iterations[0].iteration <= 3,
      `resumed at iteration ${resumed.iterations[0].iteration}, inside the hmm sweeps`,
    );
    for (const record of resumed.iterations) {
      assert.is(
        record.logLikelihoodPerToken,
        uninterrupted.iterations[record.iteration - 1].logLikelihoodPerToken,
        `iteration ${record.iteration}`,
      );
    }
    assertSameSections(whole, pieces);

    // the older checkpoint meant no lookahead and no hmm start: the same arguments now differ from it, and say how
    const refused = await runLla(['train', SAMPLE, ...LLA_HMM_ARGS, '--out', older, '--json', '--resume']);
    assert.is(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /hmm-older\.lla\.ckpt.*other settings \(contextStart false there, true here; initHmmSweeps 0 there, 3 here; lookahead false there, true here\)/,
    );
  },
);

resume(
  'Ctrl-C (SIGINT) finishes the sweep, writes the checkpoint, exits 130; --resume starts right after it',
  async () => {
    const out = join(folder, 'lda-interrupted.lla');
    const argv = ['train', SAMPLE, ...LDA_ARGS, '--out', out, '--json'];
    let sent = false;
    const interrupted = await runLla(argv, (record, kill) => {
      if (record.iteration === 2 && !sent) {
        sent = true;
        kill('SIGINT');
      }
    });
    assert.is(interrupted.code, 130, `exit ${interrupted.code} ${interrupted.signal}: ${interrupted.stderr}`);
    assert.match(interrupted.stderr, /interrupt/i);
    assert.not.match(interrupted.stderr, /^\s+at /m, 'no stack trace');
    assert.not.ok(existsSync(out), 'an interrupted run writes no model');
    // without --checkpoint-every, Ctrl-C still leaves a checkpoint of the finished sweep
    assert.ok(existsSync(`${out}.ckpt`), 'the checkpoint was written');
    const lastDone = interrupted.iterations.at(-1)!.iteration;
    assert.ok(lastDone >= 2 && lastDone < 12, `interrupted after iteration ${lastDone}`);
    const checkpoint = readModelFile(`${out}.ckpt`, { expectKind: 'checkpoint' });
    assert.is(
      (checkpoint.header as { iteration: number }).iteration,
      lastDone,
      'the checkpoint holds the last finished sweep',
    );

    const resumed = await runLla([...argv, '--resume']);
    assert.is(resumed.code, 0, resumed.stderr);
    assert.is(resumed.iterations[0].iteration, lastDone + 1, 'nothing is lost but the sweep in progress');
    assert.ok(existsSync(out));
  },
);

/** The records of `run` that trained an LSTM, each naming its engine. */
function engines(run: Run): string[] {
  return run.iterations.filter((record) => record.mstepTokensPerSecond !== null).map((record) => record.lstmEngine);
}

for (const backend of ['native', 'wasm'] as const) {
  resume(
    `lla on the kernel engine (${backend}): interrupted (SIGKILL) and resumed gives exactly the uninterrupted model`,
    async () => {
      const args = [...LLA_EXACT_ARGS, '--lstm-engine', 'kernel', '--backend', backend];
      const whole = join(folder, `kernel-${backend}-whole.lla`);
      const uninterrupted = await runLla(['train', SAMPLE, ...args, '--out', whole, '--json']);
      assert.is(uninterrupted.code, 0, uninterrupted.stderr);
      assert.is(uninterrupted.result!.backend, backend);
      assert.is(uninterrupted.result!.lstmEngine, 'kernel');
      assert.ok(engines(uninterrupted).length >= 4 && engines(uninterrupted).every((engine) => engine === 'kernel'));

      const pieces = join(folder, `kernel-${backend}-pieces.lla`);
      const argv = ['train', SAMPLE, ...args, '--checkpoint-every', '1', '--out', pieces, '--json'];
      const killed = await runLla(argv, (record, kill) => {
        if (record.iteration === 4) kill('SIGKILL');
      });
      assert.is(killed.signal, 'SIGKILL', killed.stderr);
      const resumed = await runLla([...argv, '--resume']);
      assert.is(resumed.code, 0, resumed.stderr);
      assert.ok(resumed.iterations[0].iteration >= 4, `resumed at ${resumed.iterations[0].iteration}`);
      for (const record of resumed.iterations) {
        assert.is(
          record.lstmLoss,
          uninterrupted.iterations[record.iteration - 1].lstmLoss,
          `LSTM loss of iteration ${record.iteration}`,
        );
      }
      assertSameSections(whole, pieces);
    },
  );
}

/** lla on a second-order corpus whose 2 first-order hmm sweeps find no structure: 4 second-order fallback sweeps
 * follow, then 2 lla iterations (the run grows from 4 iterations to 8). */
const FALLBACK_ARGS = [
  ...['--model', 'lla', '--topics', '10', '--iterations', '4', '--init', 'hmm:2', '--init-fallback', '4'],
  ...LLA_EXACT_ARGS.slice(LLA_EXACT_ARGS.indexOf('--lstm-tokens')),
];

for (const [backend, killAt] of [
  ['native', 2],
  ['wasm', 4],
] as const) {
  resume(
    `lla with the second-order fallback (${backend}): killed at iteration ${killAt}, resumed, gives exactly the uninterrupted model`,
    async () => {
      const secondOrder = join(folder, 'second-order.txt');
      if (!existsSync(secondOrder)) {
        const made = await runLla([
          ...['generate', '--out', secondOrder, '--dynamics', 'second-order', '--topics', '10'],
          ...['--vocabulary', '1000', '--sequences', '3000', '--length', '30', '--seed', '3'],
        ]);
        assert.is(made.code, 0, made.stderr);
      }
      const args = [...FALLBACK_ARGS, '--backend', backend];
      const whole = join(folder, `fallback-${backend}-whole.lla`);
      const uninterrupted = await runLla(['train', secondOrder, ...args, '--out', whole, '--json']);
      assert.is(uninterrupted.code, 0, uninterrupted.stderr);
      assert.equal(
        uninterrupted.iterations.map((record) => `${record.mode}${record.hmmOrder ?? ''}/${record.plannedIterations}`),
        ['hmm1/4', 'hmm1/8', 'hmm2/8', 'hmm2/8', 'hmm2/8', 'hmm2/8', 'lla/8', 'lla/8'],
      );
      assert.is(uninterrupted.result!.start.foundStructure, false);
      assert.is(uninterrupted.result!.start.fallback.sweeps, 4);
      assert.is(uninterrupted.result!.iterations, 8);

      const pieces = join(folder, `fallback-${backend}-pieces.lla`);
      const argv = ['train', secondOrder, ...args, '--checkpoint-every', '1', '--out', pieces, '--json'];
      const killed = await runLla(argv, (record, kill) => {
        if (record.iteration === killAt) kill('SIGKILL');
      });
      assert.is(killed.signal, 'SIGKILL', killed.stderr);
      const resumed = await runLla([...argv, '--resume']);
      assert.is(resumed.code, 0, resumed.stderr);
      assert.ok(resumed.iterations[0].iteration >= killAt, `resumed at ${resumed.iterations[0].iteration}`);
      assert.is(resumed.iterations.at(-1)!.iteration, 8, 'the resumed run knows the fallback grew it');
      for (const record of resumed.iterations) {
        assert.is(
          record.logLikelihoodPerToken,
          uninterrupted.iterations[record.iteration - 1].logLikelihoodPerToken,
          `log-likelihood of iteration ${record.iteration}`,
        );
      }
      assertSameSections(whole, pieces);
    },
  );
}

for (const [first, second] of [
  ['tfjs', 'kernel'],
  ['kernel', 'tfjs'],
] as const) {
  resume(
    `a checkpoint of the ${first} engine resumes under the ${second} engine, continuing its trainer state`,
    async () => {
      const reference = await runLla(['train', SAMPLE, ...LLA_EXACT_ARGS, '--lstm-engine', first, '--json']);
      assert.is(reference.code, 0, reference.stderr);
      const out = join(folder, `${first}-then-${second}.lla`);
      const argv = ['train', SAMPLE, ...LLA_EXACT_ARGS, '--checkpoint-every', '1', '--out', out, '--json'];
      const killed = await runLla([...argv, '--lstm-engine', first], (record, kill) => {
        if (record.iteration === 3) kill('SIGKILL');
      });
      assert.is(killed.signal, 'SIGKILL', killed.stderr);
      const resumed = await runLla([...argv, '--lstm-engine', second, '--resume']);
      assert.is(resumed.code, 0, resumed.stderr);
      assert.is(resumed.result!.lstmEngine, second);
      const from = resumed.iterations[0].iteration;
      assert.ok(from >= 3 && from <= 4, `resumed at iteration ${from}`);
      assert.ok(
        engines(resumed).every((engine) => engine === second),
        `the resumed iterations ran on ${second}`,
      );
      // the first resumed iteration samples with the checkpoint's weights (the same topics as the reference run),
      // then trains from the checkpoint's Adam moments, window order and carried states: the other engine's loss
      // agrees to float32 rounding (a fresh trainer state would visit other windows and land elsewhere)
      const loss = resumed.iterations[0].lstmLoss;
      const expected = reference.iterations[from - 1].lstmLoss;
      assert.ok(
        Math.abs(loss - expected) < 1e-4 * Math.abs(expected),
        `iteration ${from}: ${loss} under ${second}, ${expected} under ${first}`,
      );
      assert.ok(existsSync(out));
      const evaluated = await runEval(out);
      assert.is(evaluated.code, 0, evaluated.stderr);
    },
  );
}

resume(
  'lla on the kernel engine: Ctrl-C (SIGINT) stops at the end of the iteration, and the checkpoint holds it',
  async () => {
    const out = join(folder, 'kernel-interrupted.lla');
    const argv = ['train', SAMPLE, ...LLA_ARGS, '--lstm-engine', 'kernel', '--out', out, '--json'];
    let sent = false;
    const interrupted = await runLla(argv, (record, kill) => {
      if (record.iteration === 4 && !sent) {
        sent = true;
        kill('SIGINT');
      }
    });
    assert.is(interrupted.code, 130, `exit ${interrupted.code} ${interrupted.signal}: ${interrupted.stderr}`);
    const lastDone = interrupted.iterations.at(-1)!.iteration;
    assert.ok(lastDone >= 4 && lastDone < 10, `interrupted after iteration ${lastDone}`);
    assert.is(interrupted.iterations.at(-1)!.stop?.reason, 'interrupted', 'the last record says why the run stopped');
    const checkpoint = readModelFile(`${out}.ckpt`, { expectKind: 'checkpoint' });
    assert.is(
      (checkpoint.header as { iteration: number }).iteration,
      lastDone,
      'the checkpoint holds the last finished iteration',
    );
    const resumed = await runLla([...argv, '--resume']);
    assert.is(resumed.code, 0, resumed.stderr);
    assert.is(resumed.iterations[0].iteration, lastDone + 1);
  },
);

/** The history of the model file at `path`, each record without its timings (they differ from run to run). */
function untimed(path: string): Array<Record<string, unknown>> {
  const history = readModelFile(path).header.history as Array<Record<string, unknown>>;
  const timings = ['seconds', 'estepSeconds', 'mstepSeconds', 'estepTokensPerSecond', 'mstepTokensPerSecond'];
  return history.map((record) => Object.fromEntries(Object.entries(record).filter(([key]) => !timings.includes(key))));
}

/** Where a --lookahead auto run is killed: after the record of this iteration of this run (the checkpoint of that
 * iteration or of the one before survives; the Ctrl-C between the runs is tested in lookahead-choice.test.ts). */
const CHOICE_STOPS: Array<{ what: string; iteration: number; lookahead: boolean }> = [
  { what: 'during the first run (with lookahead)', iteration: 5, lookahead: true },
  { what: 'during the second run (without lookahead)', iteration: 5, lookahead: false },
];

for (const backend of ['native', 'wasm'] as const) {
  resume(
    `lla --lookahead auto (${backend}): stopped in either run and resumed, gives exactly the uninterrupted model`,
    async () => {
      const args = [...LLA_HMM_ARGS, '--lookahead', 'auto', '--backend', backend];
      const whole = join(folder, `auto-${backend}-whole.lla`);
      const uninterrupted = await runLla(['train', SAMPLE, ...args, '--out', whole, '--json']);
      assert.is(uninterrupted.code, 0, uninterrupted.stderr);
      assert.is(uninterrupted.result!.backend, backend);
      assert.ok(uninterrupted.result!.lookaheadChoice, 'the run chose');
      assert.equal(
        uninterrupted.iterations.map((record) => record.lookahead ?? null),
        [null, null, null, true, true, true, false, false, false],
      );
      for (const stop of CHOICE_STOPS) {
        const pieces = join(folder, `auto-${backend}-${stop.iteration}-${stop.lookahead}.lla`);
        const argv = ['train', SAMPLE, ...args, '--checkpoint-every', '1', '--out', pieces, '--json'];
        let sent = false;
        const stopped = await runLla(argv, (record, kill) => {
          if (!sent && record.iteration === stop.iteration && record.lookahead === stop.lookahead) {
            sent = true;
            kill('SIGKILL');
          }
        });
        assert.ok(sent, `${stop.what}: the record never came`);
        assert.is(stopped.signal, 'SIGKILL', stopped.stderr);
        const checkpoint = readModelFile(`${pieces}.ckpt`, { expectKind: 'checkpoint' });
        const phase = (checkpoint.header as { lookaheadChoice?: { phase: string } }).lookaheadChoice?.phase;
        assert.is(phase, stop.lookahead ? 'first' : 'second', `${stop.what}: the checkpoint's phase`);

        const resumed = await runLla([...argv, '--resume']);
        assert.is(resumed.code, 0, `${stop.what}: ${resumed.stderr}`);
        assert.equal(resumed.result!.lookaheadChoice, uninterrupted.result!.lookaheadChoice, stop.what);
        assert.is(resumed.result!.heldOutPerplexity, uninterrupted.result!.heldOutPerplexity, stop.what);
        assertSameSections(whole, pieces, stop.what);
        assert.equal(untimed(pieces), untimed(whole), `${stop.what}: the history but for its timings`);
      }
    },
  );
}

resume.run();
