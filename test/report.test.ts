// `lla report`: the HTML page (escaping, sections, no external resources), the SVG renderer, the command on
// every model kind, and the page rendered in headless Chromium (no script errors, every chart has a size).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { escapeHtml, jsonForScript } from '../src/report/escape.js';
import {
  formatNumber,
  heatmap,
  heatmapCellSize,
  labelStride,
  lineChart,
  niceTicks,
  sequentialColour,
  trajectoryStrip,
} from '../src/report/charts.js';
import { renderReport, SECTION_IDS } from '../src/report/html.js';
import { reportDataFromModel, type ReportData } from '../src/report/data.js';
import { defaultReportPath } from '../src/cli/commands/report.js';
import { LlaModel } from '../src/model/model.js';
import { DEFAULT_SETTINGS, type ModelKind } from '../src/train/settings.js';
import type { IterationRecord } from '../src/train/sem.js';
import { mulberry32 } from './helpers/mulberry32.js';
import { sequenceCorpus } from '../src/train/data.js';
import { collapseRepeats } from '../src/train/repeats.js';

const scratch = mkdtempSync(join(tmpdir(), 'lla-report-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** Action names as hostile as data can make them: markup, quotes, a script, an external URL. */
const HOSTILE = [
  '<script>window.pwned = 1</script>',
  '"><img src=x onerror="window.pwned = 2">',
  'it\'s & "quoted"',
  'https://evil.example/x.js',
  '</script><script>window.pwned = 3</script>',
];

// ------------------------------------------------------------------------------------------------ page checks

/** Every <script> tag of a report is one of the page's own three (error capture, transition data, page script). */
function foreignScripts(html: string): string[] {
  return (html.match(/<script[^>]*>/gi) ?? []).filter(
    (tag) => tag !== '<script>' && tag !== '<script type="application/json" id="transition-data">',
  );
}

/** src/href/xlink:href attributes and CSS url() that point at the network (http, https or protocol-relative). */
function externalReferences(html: string): string[] {
  const attributes =
    html.match(/\s(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\/[^"'\s>]*/gi) ?? [];
  const css = html.match(/url\(\s*["']?\s*(?:https?:)?\/\/[^)]*\)/gi) ?? [];
  const imports = html.match(/@import/gi) ?? [];
  return [...attributes, ...css, ...imports];
}

function assertCleanPage(html: string, label: string): void {
  for (const id of SECTION_IDS) assert.ok(html.includes(`<section id="${id}">`), `${label}: section #${id} is missing`);
  assert.equal(foreignScripts(html), [], `${label}: a <script> that the page did not write`);
  assert.equal(externalReferences(html), [], `${label}: an external reference`);
  assert.ok(!/<img\b/i.test(html), `${label}: an <img> element (from unescaped data)`);
  // exactly the page's own two inline scripts: a data string that became markup would add one
  assert.is((html.match(/<script>/g) ?? []).length, 2, `${label}: a data string became a script`);
  assert.ok(
    html.includes('Content-Security-Policy" content="default-src \'none\''),
    `${label}: no CSP forbidding network loads`,
  );
}

// ------------------------------------------------------------------------------------------------ hand-made data

function record(
  iteration: number,
  mode: IterationRecord['mode'],
  extra: Partial<IterationRecord> = {},
): IterationRecord {
  return {
    iteration,
    mode,
    seconds: 1,
    estepSeconds: 0.1,
    mstepSeconds: mode === 'lda' ? 0 : 0.9,
    estepTokensPerSecond: 1e6 + iteration * 1e4,
    mstepTokensPerSecond: mode === 'lda' ? null : 2e4 + iteration * 100,
    logLikelihoodPerToken: -9 + iteration * 0.2,
    logPhiPerToken: -8,
    lstmLoss: mode === 'lda' ? null : 2,
    acceptanceRate: 0.5,
    ...extra,
  };
}

/** A report of a K-topic model whose action names are all hostile strings (or an lstm baseline's). */
function fakeData(model: ModelKind, k: number, evaluations: number): ReportData {
  const hasTopics = model !== 'lstm';
  const history = Array.from({ length: 8 }, (_, i) =>
    record(i + 1, i < 3 && model !== 'lda' ? 'lda' : model === 'lstm' ? 'lda' : (model as 'lla'), {
      ...(i >= 8 - evaluations ? { heldOutPerplexity: 300 - i * 10 } : {}),
      // the lstm baseline records its iterations as mode 'lda' with no E-step (src/train/action-lstm-trainer.ts)
      ...(model === 'lstm' ? { estepTokensPerSecond: 0, mstepTokensPerSecond: 1500 } : {}),
    }),
  );
  // a diagonal-heavy transition matrix with one empty row (a topic no position held)
  const matrix = Array.from({ length: k }, (_, row) =>
    Array.from({ length: k }, (_, column) => (row === 1 ? 0 : row === column ? 0.5 : 0.5 / (k - 1))),
  );
  return {
    title: HOSTILE[0],
    llaVersion: '0.0.0-test',
    generatedAt: '2024-01-01T00:00:00.000Z',
    model,
    settings: { ...DEFAULT_SETTINGS, model, topics: k },
    vocabularySize: HOSTILE.length,
    backends: { kernel: 'native', tf: model === 'lda' ? null : 'wasm' },
    parameters: { dense: 1000, total: 1500 },
    heldOut: {
      model,
      copy: hasTopics,
      perplexity: 230,
      perplexityMethod: 'left-to-right',
      logLikelihood: -1000,
      tokens: 200,
      sequences: 10,
      outOfVocabulary: 3,
      recallAt1: 0.1,
      recallAt10: 0.4,
      mrr: 0.2,
      nextActionPositions: 150,
    },
    unigramPerplexity: 800,
    coherence: hasTopics ? { umass: -1.5, npmi: 0.05 } : null,
    cache: {
      perplexity: 412.5,
      recallAt1: 0.15,
      recallAt10: 0.35,
      mrr: 0.22,
      decay: 0.875,
      mass: 6.5,
      window: 104,
      fitted: true,
    },
    copy: hasTopics ? { decay: 0.8, window: 62, meanRate: 0.375, meanMass: 1.25 } : null,
    copyFit: hasTopics
      ? {
          kept: true,
          form: 'topic',
          heldInPerplexityWith: 210.5,
          heldInPerplexityWithout: 290.25,
          heldInTokens: 1234,
          heldInSequences: 12,
          decay: 0.8,
          forms: [],
        }
      : null,
    lookaheadChoice: null,
    stop: null,
    history,
    topics: hasTopics
      ? Array.from({ length: k }, (_, topic) => ({
          topic,
          tokens: 10 + topic,
          actions: HOSTILE.map((action, i) => ({ action, probability: 0.3 / (i + 1) })),
        }))
      : null,
    transitions: hasTopics ? { matrix, source: model === 'lla' ? 'lstm' : 'empirical' } : null,
    trajectories: hasTopics
      ? [
          {
            id: HOSTILE[1],
            actions: Array.from({ length: 120 }, (_, t) => HOSTILE[t % HOSTILE.length]),
            topics: Array.from({ length: 120 }, (_, t) => Math.floor(t / 10) % k),
          },
        ]
      : [],
  };
}

test('escapeHtml escapes the five markup characters; jsonForScript cannot close its script element', () => {
  assert.is(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.is(escapeHtml(42), '42');
  const json = jsonForScript({ name: '</script><!-- \u2028' });
  assert.not.ok(json.includes('<'));
  assert.equal(JSON.parse(json), { name: '</script><!-- \u2028' });
});

test('the page of a hand-made lla report: every section, every string escaped, nothing external', () => {
  const html = renderReport(fakeData('lla', 12, 3));
  assertCleanPage(html, 'lla');
  for (const hostile of HOSTILE) {
    if (/[<>"'&]/.test(hostile)) assert.not.ok(html.includes(hostile), `unescaped: ${hostile}`);
    assert.ok(html.includes(escapeHtml(hostile)), `missing (escaped): ${hostile}`);
  }
  // charts: held-out perplexity (3 evaluations), log-likelihood, E-step, M-step, heatmap, one trajectory
  assert.is((html.match(/<svg /g) ?? []).length, 6);
  assert.ok(html.includes('aria-label="Held-out perplexity per iteration"'));
  assert.ok(html.includes('lda init'), 'the initialisation sweeps are shaded');
  assert.ok(html.includes('class="empty-row"'), 'the empty transition row is drawn grey');
  assert.ok(html.includes("the LSTM's next-topic distribution"));
  // the references and the copy component
  assert.match(
    html,
    /recency-cache reference<\/td><td>412\.5; Recall@1 0\.150, Recall@10 0\.350, MRR 0\.220 \(decay 0\.875/,
  );
  assert.match(
    html,
    /copy component<\/td><td>decay 0\.800 over the last 62 actions, mean rate 0\.375, mean history mass 1\.25; kept \(form topic\): held-in perplexity 210\.5 with it, 290\.3 without/,
  );
  // the transition data for the hover read-out round-trips
  const json = /<script type="application\/json" id="transition-data">([^<]*)<\/script>/.exec(html);
  assert.ok(json);
  assert.is(JSON.parse(json![1]).length, 12);
});

test("a --lookahead auto model: its choice in the summary, the kept run's stop, one line per run", () => {
  const data = fakeData('lla', 6, 0);
  const hmm = [1, 2].map((iteration) => record(iteration, 'hmm'));
  const run = (lookahead: boolean) =>
    [3, 4, 5].map((iteration) => record(iteration, 'lla', { lookahead, logLikelihoodPerToken: lookahead ? -6 : -5 }));
  const second = run(false);
  second[2].stop = { reason: 'iterations', improvement: null, tol: 0.001 };
  data.history = [...hmm, ...run(true), ...second];
  data.lookaheadChoice = { lookahead: true, exact: false, heldInPerplexity: { lookahead: 101.25, noLookahead: 107.5 } };
  data.stop = { reason: 'converged', improvement: 0.0004, tol: 0.001 };
  const html = renderReport(data);
  assertCleanPage(html, 'lla, --lookahead auto');
  assert.match(html, /lookahead<\/td><td>auto kept 1: held-in perplexity 101\.3 with lookahead, 107\.5 without/);
  assert.match(html, /training stopped<\/td><td>converged/, "the kept run's stop, not the second run's");
  assert.ok(html.includes('training log-likelihood / token, auto run 1: lookahead'));
  assert.ok(html.includes('training log-likelihood / token, auto run 2: no lookahead'));
});

test('one held-out evaluation: a note with its value instead of a one-point curve', () => {
  const html = renderReport(fakeData('lla', 5, 1));
  assertCleanPage(html, 'lla, one evaluation');
  assert.not.ok(html.includes('aria-label="Held-out perplexity per iteration"'));
  assert.match(html, /evaluated once, after iteration 8: <b>230\.0<\/b>/);
  assert.ok(html.includes('aria-label="Training log-likelihood per token"'));
});

test('lda and lstm reports show what applies to them', () => {
  const lda = renderReport(fakeData('lda', 7, 0));
  assertCleanPage(lda, 'lda');
  assert.ok(lda.includes('counted over the training sequences'), 'lda: empirical transitions');
  assert.ok(lda.includes('trains no LSTM'));
  assert.not.ok(lda.includes('aria-label="M-step tokens per second"'));
  assert.not.ok(lda.includes('lda init'), 'lda has no initialisation phase to shade');
  const lstm = renderReport(fakeData('lstm', 50, 2));
  assertCleanPage(lstm, 'lstm');
  assert.not.ok(lstm.includes('class="heatmap"'));
  assert.not.ok(lstm.includes('class="trajectory"'));
  assert.not.ok(lstm.includes('aria-label="E-step tokens per second"'));
  assert.ok(lstm.includes('aria-label="M-step tokens per second"'));
  assert.match(lstm, /lstm baseline has no topics, so it has no topic-transition matrix/);
});

test('SVG renderer: ticks, colours, heatmap size and labels up to K = 100, trajectory wrapping', () => {
  assert.equal(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.equal(niceTicks(-9.3, -6.1, 4), [-9, -8, -7]);
  assert.equal(niceTicks(3, 3), [3]);
  assert.is(formatNumber(2_222_532), '2.22M');
  assert.is(formatNumber(24_241), '24.2k');
  assert.is(formatNumber(0.0341), '0.0341');
  assert.is(sequentialColour(0), '#440154');
  assert.is(sequentialColour(1), '#fde725');
  assert.is(sequentialColour(Number.NaN), '#440154');
  for (const k of [2, 20, 50, 100, 130]) {
    const cell = heatmapCellSize(k);
    assert.ok(cell >= 4 && cell * k <= Math.max(700, 4 * k), `K=${k}: cell ${cell}`);
    assert.ok(labelStride(cell) * cell >= 22, `K=${k}: labels overlap`);
  }
  const k = 100;
  const identity = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)));
  const svg = heatmap(identity, { title: 't', rowLabel: 'r', columnLabel: 'c' });
  // the background holds the zeros: one rect per diagonal cell, not K^2
  const cells = (svg.match(/<rect [^>]*fill="#fde725"/g) ?? []).length;
  assert.ok(cells >= k, `diagonal cells drawn: ${cells}`);
  assert.ok((svg.match(/<rect /g) ?? []).length < 3 * k, 'zero cells are not drawn one by one');
  // labels 0, 10, ..., 90 on each axis
  assert.is((svg.match(/class="tick">90</g) ?? []).length, 2);
  assert.match(svg, /width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
  const strip = trajectoryStrip([0, 1, 2, 3, 4], ['a', 'b', 'c', 'd', '<e>'], { perRow: 2 });
  assert.is((strip.match(/<g>/g) ?? []).length, 5);
  assert.match(strip, />5<\/text>/, 'the third row starts at position 5');
  assert.ok(strip.includes('position 5: &lt;e&gt; (topic 4)'));
  const empty = lineChart({
    title: 'x',
    xLabel: 'x',
    yLabel: 'y',
    series: [{ name: 's', colour: '#000', points: [{ x: 1, y: null }] }],
  });
  assert.match(empty, /no data/);
});

// ------------------------------------------------------------------------------------------------ real models

/** Sequences over three blocks of actions with persistent regimes; some action names are hostile. */
function corpus(sequences: number, length: number, seed: number): string[][] {
  const uniform = mulberry32(seed);
  const blocks = [HOSTILE, ['b0', 'b1', 'b2', 'b3', 'b4'], ['c0', 'c1', 'c2', 'c3', 'c4']];
  return Array.from({ length: sequences }, () => {
    let block = Math.floor(uniform() * 3);
    return Array.from({ length }, () => {
      if (uniform() < 0.1) block = Math.floor(uniform() * 3);
      const actions = blocks[block];
      return actions[Math.floor(uniform() * actions.length)];
    });
  });
}

// evalEvery 2 with one lda sweep: evaluating during an lla model's lda initialisation fails (no LSTM weights yet)
const SMALL = {
  topics: 4,
  iterations: 4,
  initLdaSweeps: 1,
  hidden: 8,
  embedding: 4,
  lstmTokens: 1500,
  batch: 8,
  bptt: 8,
  particles: 8,
  evalEvery: 2,
  seed: 3,
  threads: 1,
};

async function trainSaved(model: ModelKind): Promise<{ path: string; model: LlaModel }> {
  const data = corpus(60, 30, 11);
  const trained = await LlaModel.create({
    ...SMALL,
    model,
    ...(model === 'lstm' ? { lstmTokens: 600 } : {}),
    warn: () => {},
  });
  await trained.train(data.slice(0, 50), { heldOut: data.slice(50) });
  const path = join(scratch, `${model}.lla`);
  await trained.save(path);
  return { path, model: trained };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function lla(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/lla.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const reports: Partial<Record<ModelKind, string>> = {};

test('reportDataFromModel on a model trained here: topics, transitions, trajectories, backends', async () => {
  const { model } = await trainSaved('lla');
  const data = reportDataFromModel(model, { title: 'in-process', topActions: 3, trajectories: 2 });
  assert.is(data.topics!.length, 4);
  assert.ok(data.topics!.every((topic) => topic.actions.length === 3));
  // the counts hold every training block (repeat blocks, the default: a run of one action counts once)
  const training = sequenceCorpus(corpus(60, 30, 11).slice(0, 50), model.vocabulary);
  assert.is(
    data.topics!.reduce((sum, topic) => sum + topic.tokens, 0),
    collapseRepeats(training).tokens.length,
  );
  assert.is(data.transitions!.source, 'lstm');
  for (const row of data.transitions!.matrix) {
    const total = row.reduce((a, b) => a + b, 0);
    assert.ok(total === 0 || Math.abs(total - 1) < 1e-6, `row sums to ${total}`);
  }
  assert.is(data.trajectories.length, 2);
  // paths of blocks: a run of one action is one step, so no action follows itself
  assert.ok(data.trajectories.every((t) => t.actions.length === t.topics.length && t.actions.length <= 30));
  assert.ok(data.trajectories.every((t) => t.actions.every((action, i) => i === 0 || action !== t.actions[i - 1])));
  assert.ok(data.trajectories[0].actions.every((action) => typeof action === 'string' && !action.startsWith('#')));
  assert.is(data.backends.kernel, model.backend);
  assert.is(data.history.length, 4);
  assert.equal(
    data.history.map((r) => Number.isFinite(r.heldOutPerplexity)),
    [false, true, false, true],
    'evalEvery 2',
  );
  model.dispose();
});

for (const kind of ['lla', 'lda', 'lstm'] as const) {
  test(`lla report on a saved ${kind} model writes a clean page`, async () => {
    const { path, model } = await trainSaved(kind);
    model.dispose();
    const out = join(scratch, `${kind}.html`);
    const run = await lla('report', path, '--out', out, '--json');
    assert.is(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { out: string; bytes: number; kind: string };
    assert.is(result.out, out);
    assert.is(result.kind, kind);
    const html = readFileSync(out, 'utf8');
    assert.is(Buffer.byteLength(html), result.bytes);
    assertCleanPage(html, kind);
    for (const hostile of HOSTILE.filter((h) => /[<>"'&]/.test(h))) {
      assert.not.ok(html.includes(hostile), `${kind}: unescaped action name ${hostile}`);
    }
    assert.ok(html.includes('aria-label="Held-out perplexity per iteration"'), `${kind}: evalEvery 2 gives a curve`);
    if (kind !== 'lstm') {
      assert.ok(html.includes(escapeHtml(HOSTILE[2])), `${kind}: hostile action listed (escaped) in a topic`);
      assert.ok(html.includes('class="heatmap"'));
      assert.ok(html.includes('class="trajectory"'));
    }
    reports[kind] = out;
  });
}

test('lla report: usage errors exit 2 and write nothing', async () => {
  const missing = await lla('report', join(scratch, 'nope.lla'), '--out', join(scratch, 'nope.html'));
  assert.is(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /nope\.lla/);
  assert.not.ok(existsSync(join(scratch, 'nope.html')));
  const none = await lla('report');
  assert.is(none.code, 2);
  assert.match(none.stderr, /expected one <model> file/);
  const badTop = await lla('report', join(scratch, 'lda.lla'), '--top', '0');
  assert.is(badTop.code, 2);
  assert.match(badTop.stderr, /--top/);
  assert.is(defaultReportPath('runs/model.lla'), 'runs/model.html');
  assert.is(defaultReportPath('model.bin'), 'model.bin.html');
});

// ------------------------------------------------------------------------------------------------ in a browser

const BROWSER_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
// LLA_CHROMIUM names another browser binary (or a missing one, to see the skip and CI-failure paths)
const chosen = process.env.LLA_CHROMIUM;
const browser =
  chosen !== undefined
    ? existsSync(chosen)
      ? chosen
      : undefined
    : BROWSER_CANDIDATES.find((candidate) => existsSync(candidate));

interface SelfCheck {
  loaded: boolean;
  charts: Array<{ chart: string; width: number; height: number }>;
  errors: string[];
}

/** Loads the page in headless Chromium and returns what its self-check wrote into <pre id="self-check">. */
function renderInBrowser(file: string): Promise<SelfCheck & { dom: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'lla-report-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    `--user-data-dir=${profile}`,
    '--window-size=1280,1000',
    '--dump-dom',
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(browser!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let dom = '';
    let log = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.on('data', (chunk) => {
      dom += chunk;
    });
    child.stderr.on('data', (chunk) => {
      log += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      const match = /<pre id="self-check">([^<]*)<\/pre>/.exec(dom);
      if (!match || match[1] === '') {
        reject(
          new Error(`Chromium (exit ${code}) returned no self-check for ${file}; its log ends:\n${log.slice(-1500)}`),
        );
        return;
      }
      const text = match[1]
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
      if (/<img\b/i.test(dom)) reject(new Error('the rendered DOM holds an <img>: data was not escaped'));
      else resolve({ ...(JSON.parse(text) as SelfCheck), dom });
    });
  });
}

function assertRendered(check: SelfCheck, html: string, label: string): void {
  assert.ok(check.loaded, `${label}: the page did not finish loading`);
  assert.equal(check.errors, [], `${label}: script errors or blocked loads`);
  assert.is(check.charts.length, (html.match(/<svg /g) ?? []).length, `${label}: charts counted in the DOM`);
  assert.ok(check.charts.length > 0);
  for (const chart of check.charts) {
    assert.ok(
      chart.width > 0 && chart.height > 0,
      `${label}: chart '${chart.chart}' is ${chart.width} x ${chart.height}`,
    );
  }
}

if (browser) {
  test('headless Chromium: every report loads without script errors and every chart has a size', async () => {
    const pages: Array<[string, string]> = Object.entries(reports).map(([kind, file]) => [kind, file!]);
    const large = join(scratch, 'k100.html');
    writeFileSync(large, renderReport(fakeData('lla', 100, 4)));
    pages.push(['hand-made K = 100', large]);
    assert.ok(pages.length >= 4, 'the CLI reports were written by the tests above');
    for (const [label, file] of pages) assertRendered(await renderInBrowser(file), readFileSync(file, 'utf8'), label);
  });

  test('headless Chromium: hovering a heatmap cell reads out its transition', async () => {
    const data = fakeData('lla', 100, 2);
    data.transitions!.matrix[3][4] = 0.123456;
    // a mouse move over the centre of cell (row 3, column 4), sent once the page script has installed its handler
    const hover = `<script>(function () {
      var svg = document.querySelector('svg[data-heatmap]');
      var box = svg.getBoundingClientRect();
      var scale = box.width / svg.viewBox.baseVal.width;
      var cell = Number(svg.getAttribute('data-cell'));
      var x = box.left + (Number(svg.getAttribute('data-left')) + 4.5 * cell) * scale;
      var y = box.top + (Number(svg.getAttribute('data-top')) + 3.5 * cell) * scale;
      svg.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
    })();</script>`;
    const file = join(scratch, 'hover.html');
    writeFileSync(file, renderReport(data).replace('</body>', `${hover}</body>`));
    const check = await renderInBrowser(file);
    assert.equal(check.errors, []);
    assert.match(check.dom, /id="transition-data-readout">from topic 3 to topic 4: 0\.123</);
  });

  test('headless Chromium: the self-check does report a script error and a zero-size chart', async () => {
    const broken = renderReport(fakeData('lda', 5, 0)).replace(
      '</main>',
      '<svg width="0" height="0"></svg><script>undefinedFunction()</script></main>',
    );
    const file = join(scratch, 'broken.html');
    writeFileSync(file, broken);
    const check = await renderInBrowser(file);
    assert.ok(
      check.errors.some((error) => /undefinedFunction/.test(error)),
      JSON.stringify(check.errors),
    );
    assert.ok(
      check.charts.some((chart) => chart.width === 0),
      'the zero-size svg is measured as such',
    );
  });
} else if (process.env.CI === 'true') {
  test('headless Chromium is installed (required under CI)', () => {
    assert.unreachable(
      `no Chromium at ${chosen ?? BROWSER_CANDIDATES.join(', ')}: .ci/run installs it (apt-get install -y chromium)`,
    );
  });
} else {
  console.warn(
    `NOTICE report.test.ts: skipping the browser tests: no Chromium at ${chosen ?? BROWSER_CANDIDATES.join(', ')} ` +
      '(install it with apt-get install -y chromium)',
  );
  test.skip('headless Chromium: every report loads without script errors and every chart has a size', () => {});
}

test.run();
