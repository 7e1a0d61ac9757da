/**
 * The report page (SPEC section 6, `lla report`): one self-contained HTML file. Styles and scripts are
 * inline, charts are inline SVG (charts.ts), and a Content-Security-Policy forbids every network load, so the
 * page reads the same offline, attached to an e-mail, or years later. Every data string is escaped.
 *
 * The page also checks itself: on load a small script writes the size of every chart and any script error
 * into the hidden <pre id="self-check">, which the end-to-end test reads from a headless browser's DOM.
 */
import { escapeHtml, jsonForScript } from './escape.js';
import { heatmap, lineChart, topicColour, topicTextColour, trajectoryStrip, type ChartSeries } from './charts.js';
import type { ReportData, ReportTopic, ReportTrajectory } from './data.js';
import { ERROR_CAPTURE, PAGE_SCRIPT, STYLE } from './page-assets.js';
import type { IterationRecord } from '../train/sem.js';
import { describeStop } from '../train/convergence.js';

/** The page's sections, in order (ids of the <section> elements; tests check that each is present). */
export const SECTION_IDS = [
  'summary',
  'training',
  'throughput',
  'transitions',
  'topics',
  'trajectories',
  'settings',
] as const;

const COLOURS = { primary: '#1f77b4', secondary: '#d62728', estep: '#2a9d8f', mstep: '#e76f51' };

const integer = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

function modelDescription(data: ReportData): string {
  const s = data.settings;
  switch (data.model) {
    case 'lla':
      return `Topic-LLA: K = ${s.topics} topics, an LSTM over topics (H = ${s.hidden}, E = ${s.embedding})`;
    case 'word-lla':
      return `Word-LLA: K = ${s.topics} topics, an LSTM over actions (H = ${s.hidden}, E = ${s.embedding})`;
    case 'lda':
      return `LDA baseline: K = ${s.topics} topics, no LSTM`;
    case 'lstm':
      return `LSTM baseline: an action-level language model (H = ${s.hidden}, E = ${s.embedding}), no topics`;
    case 'cache':
      return "recency cache: the sequence's own decayed history backed off to the training unigram, no topics";
  }
}

function row(label: string, value: string): string {
  return `<tr><td>${escapeHtml(label)}</td><td>${value}</td></tr>`;
}

function summarySection(data: ReportData): string {
  const rows: string[] = [];
  rows.push(row('model', escapeHtml(modelDescription(data))));
  rows.push(row('vocabulary', `${integer(data.vocabularySize)} actions`));
  const seconds = data.history.reduce((sum, record) => sum + (Number.isFinite(record.seconds) ? record.seconds : 0), 0);
  rows.push(row('training', `${data.history.length} iterations in ${fixed(seconds, 1)} s`));
  const heldOut = data.heldOut;
  if (heldOut) {
    rows.push(
      row(
        'held-out perplexity',
        `<b>${fixed(heldOut.perplexity, 1)}</b> (${escapeHtml(heldOut.perplexityMethod)}) over ` +
          `${integer(heldOut.tokens)} tokens of ${integer(heldOut.sequences)} sequences; ${integer(heldOut.outOfVocabulary)} ` +
          'out-of-vocabulary tokens left out',
      ),
    );
    if (data.unigramPerplexity !== null) rows.push(row('unigram reference', fixed(data.unigramPerplexity, 1)));
    if (data.cache !== null) {
      rows.push(
        row(
          'recency-cache reference',
          `${fixed(data.cache.perplexity, 1)}; Recall@1 ${fixed(data.cache.recallAt1, 3)}, ` +
            `Recall@10 ${fixed(data.cache.recallAt10, 3)}, MRR ${fixed(data.cache.mrr, 3)} (decay ${fixed(data.cache.decay, 3)}, ` +
            `unigram weight ${fixed(data.cache.mass, 2)}${data.cache.fitted ? ', fitted on held-in training data' : ', not fitted'})`,
        ),
      );
    }
    if (heldOut.nextActionPositions > 0) {
      rows.push(
        row(
          'next action',
          `Recall@1 ${fixed(heldOut.recallAt1, 3)}, Recall@10 ${fixed(heldOut.recallAt10, 3)}, ` +
            `MRR ${fixed(heldOut.mrr, 3)} (${integer(heldOut.nextActionPositions)} positions)`,
        ),
      );
    }
  } else {
    rows.push(
      row('held-out perplexity', '<span class="muted">not evaluated (trained without a held-out split)</span>'),
    );
  }
  if (data.copy || data.copyFit) rows.push(row('copy component', copyDescription(data)));
  if (data.lookaheadChoice) {
    const { lookahead, heldInPerplexity } = data.lookaheadChoice;
    rows.push(
      row(
        'lookahead',
        `auto kept ${lookahead ? 1 : 0}: held-in perplexity ${fixed(heldInPerplexity.lookahead, 1)} with ` +
          `lookahead, ${fixed(heldInPerplexity.noLookahead, 1)} without (two runs from the end of the initialisation)`,
      ),
    );
  }
  if (data.coherence) {
    rows.push(
      row(
        'topic coherence',
        `UMass ${fixed(data.coherence.umass, 3)}, NPMI ${fixed(data.coherence.npmi, 3)} (mean over topics, top 10 actions)`,
      ),
    );
  }
  rows.push(
    row(
      'parameters',
      data.model === 'lstm'
        ? `${integer(data.parameters.total)} (dense LSTM and softmax)`
        : `${integer(data.parameters.total)} (${integer(data.parameters.dense)} dense + ` +
            `${integer(data.parameters.total - data.parameters.dense)} count non-zeros)`,
    ),
  );
  rows.push(row('trained with', trainedWith(data)));
  // a --lookahead auto model's last record is its second run's: the kept run's stop is in its results
  const stop = data.stop ?? data.history.at(-1)?.stop;
  if (stop) rows.push(row('training stopped', escapeHtml(describeStop(stop))));
  return `<section id="summary"><h2>Summary</h2><table class="metrics">${rows.join('')}</table></section>`;
}

/** The copy component: its constants and the held-in scores that kept (or dropped) it. */
function copyDescription(data: ReportData): string {
  const parts: string[] = [];
  if (data.copy) {
    parts.push(
      `decay ${fixed(data.copy.decay, 3)} over the last ${integer(data.copy.window)} actions, mean rate ` +
        `${fixed(data.copy.meanRate, 3)}, mean history mass ${fixed(data.copy.meanMass, 2)}`,
    );
  } else {
    parts.push('none');
  }
  const fit = data.copyFit;
  if (fit) {
    parts.push(
      `${fit.kept ? 'kept' : 'dropped'} (form ${escapeHtml(fit.form)}): held-in perplexity ` +
        `${fixed(fit.heldInPerplexityWith, 1)} with it, ${fixed(fit.heldInPerplexityWithout, 1)} without, over ` +
        `${integer(fit.heldInTokens)} tokens of ${integer(fit.heldInSequences)} held-in sequences`,
    );
  }
  return parts.join('; ');
}

/** Which backends did the work: the lstm baseline runs no kernel, lda no TF.js. */
function trainedWith(data: ReportData): string {
  const kernel = `kernel ${escapeHtml(data.backends.kernel)}`;
  const tf = `LSTM on TF.js ${escapeHtml(data.backends.tf ?? 'n/a')}`;
  if (data.model === 'lstm') return `${tf} (the lstm baseline runs no sampling kernel)`;
  if (data.model === 'lda') return `${kernel} (lda trains no LSTM)`;
  return `${kernel}, ${escapeHtml(mstepEngine(data))}`;
}

/** The shaded initialisation sweeps (lda or hmm) of an lla or word-lla run (none for lda itself or the lstm baseline). */
function initialisationBands(data: ReportData): Array<{ from: number; to: number; label: string }> {
  if (data.model !== 'lla' && data.model !== 'word-lla') return [];
  const initial = data.history.filter((record) => record.mode === 'lda' || record.mode === 'hmm');
  if (initial.length === 0) return [];
  const iterations = initial.map((record) => record.iteration);
  return [{ from: Math.min(...iterations) - 0.5, to: Math.max(...iterations) + 0.5, label: `${initial[0].mode} init` }];
}

/** The colour of a `--lookahead auto` run's second series (its first keeps the chart's own colour). */
const SECOND_RUN_COLOUR = '#9467bd';

/**
 * One line of `value` per iteration; a `--lookahead auto` model, whose history holds two runs over the same
 * iterations after its start, gets one line per run (the first with the start's records), each named for its run.
 */
function seriesOf(
  history: IterationRecord[],
  name: string,
  colour: string,
  value: (record: IterationRecord) => number | null | undefined,
): ChartSeries[] {
  const line = (records: IterationRecord[], lineName: string, lineColour: string): ChartSeries => ({
    name: lineName,
    colour: lineColour,
    points: records.map((record) => {
      const y = value(record);
      return { x: record.iteration, y: y === undefined || y === null || !Number.isFinite(y) ? null : y };
    }),
  });
  const second = history.filter((record) => record.lookahead === false);
  if (second.length === 0) return [line(history, name, colour)];
  return [
    line(
      history.filter((record) => record.lookahead !== false),
      `${name}, auto run 1: lookahead`,
      colour,
    ),
    line(second, `${name}, auto run 2: no lookahead`, SECOND_RUN_COLOUR),
  ];
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;
}

function trainingSection(data: ReportData): string {
  const history = data.history;
  const bands = initialisationBands(data);
  const figures: string[] = [];
  const notes: string[] = [];
  if (history.length === 0) {
    return '<section id="training"><h2>Training</h2><p class="note">This model holds no training history.</p></section>';
  }
  const evaluated = history.filter(
    (record) =>
      record.heldOutPerplexity !== undefined &&
      record.heldOutPerplexity !== null &&
      Number.isFinite(record.heldOutPerplexity),
  );
  if (evaluated.length >= 2) {
    figures.push(
      figure(
        lineChart({
          title: 'Held-out perplexity per iteration',
          xLabel: 'Iteration',
          yLabel: 'held-out perplexity',
          integerX: true,
          bands,
          series: seriesOf(evaluated, 'held-out perplexity', COLOURS.secondary, (record) => record.heldOutPerplexity),
        }),
        'Held-out perplexity (lower is better), at the iterations where it was evaluated (<code>--eval-every</code>).',
      ),
    );
  } else if (evaluated.length === 1) {
    notes.push(
      `Held-out perplexity was evaluated once, after iteration ${evaluated[0].iteration}: ` +
        `<b>${fixed(evaluated[0].heldOutPerplexity, 1)}</b>. Train with <code>--eval-every N</code> for a curve; ` +
        'the training log-likelihood below is recorded every iteration.',
    );
  } else {
    notes.push(
      'No held-out perplexity was recorded (no held-out split): the chart shows the training log-likelihood per token.',
    );
  }
  const likelihoodLabel =
    data.model === 'lstm'
      ? 'Mean log-likelihood per token of the LSTM M-step (minus its cross-entropy, nats); higher is better.'
      : 'Complete-data log-likelihood per training token (log phi of the sampled topic plus the log-probability of ' +
        'that topic under the model), in nats; higher is better.' +
        (bands.length ? ' Shaded: the lda initialisation sweeps.' : '');
  figures.push(
    figure(
      lineChart({
        title: 'Training log-likelihood per token',
        xLabel: 'Iteration',
        yLabel: 'log-likelihood / token',
        integerX: true,
        bands,
        series: seriesOf(
          history,
          'training log-likelihood / token',
          COLOURS.primary,
          (record) => record.logLikelihoodPerToken,
        ),
      }),
      likelihoodLabel,
    ),
  );
  return (
    `<section id="training"><h2>Training</h2>${notes.map((note) => `<p class="note">${note}</p>`).join('')}` +
    `<div class="charts">${figures.join('')}</div></section>`
  );
}

/** Who trained the LSTM, from the records (older ones name no engine: those trained on TF.js). */
function mstepEngine(data: ReportData): string {
  const engines = new Set(
    data.history.filter((record) => record.mstepTokensPerSecond !== null).map((record) => record.lstmEngine ?? 'tfjs'),
  );
  const names = [...engines].map((engine) =>
    engine === 'kernel' ? `the ${data.backends.kernel} kernel trainer` : `LSTM on TF.js ${data.backends.tf ?? 'n/a'}`,
  );
  return names.length > 0 ? names.join(', then ') : 'no M-step recorded';
}

function throughputSection(data: ReportData): string {
  const history = data.history;
  const figures: string[] = [];
  const bands = initialisationBands(data);
  if (data.model !== 'lstm' && history.length > 0) {
    figures.push(
      figure(
        lineChart({
          title: 'E-step tokens per second',
          xLabel: 'Iteration',
          yLabel: 'tokens / s',
          integerX: true,
          zeroBased: true,
          bands,
          series: seriesOf(
            history,
            `E-step (${data.backends.kernel} kernel)`,
            COLOURS.estep,
            (record) => record.estepTokensPerSecond,
          ),
        }),
        'Topic sampling throughput of each sweep (the kernel).',
      ),
    );
  }
  const hasMstep = history.some(
    (record) => record.mstepTokensPerSecond !== null && record.mstepTokensPerSecond !== undefined,
  );
  if (hasMstep) {
    figures.push(
      figure(
        lineChart({
          title: 'M-step tokens per second',
          xLabel: 'Iteration',
          yLabel: 'tokens / s',
          integerX: true,
          zeroBased: true,
          bands,
          series: seriesOf(
            history,
            `M-step (${mstepEngine(data)})`,
            COLOURS.mstep,
            (record) => record.mstepTokensPerSecond,
          ),
        }),
        'LSTM training throughput of each iteration' + (bands.length ? ' (none during the lda initialisation).' : '.'),
      ),
    );
  }
  const note =
    data.model === 'lda'
      ? '<p class="note">The lda baseline trains no LSTM: it has no M-step beyond the counts.</p>'
      : data.model === 'lstm'
        ? '<p class="note">The lstm baseline has no topic sampling (E-step): only its training throughput is shown.</p>'
        : '';
  const body = figures.length
    ? `<div class="charts">${figures.join('')}</div>`
    : '<p class="note">No throughput was recorded.</p>';
  return `<section id="throughput"><h2>Throughput</h2>${note}${body}</section>`;
}

function transitionsSection(data: ReportData): string {
  const head = '<section id="transitions"><h2>Topic transitions</h2>';
  if (data.model === 'lstm') {
    return `${head}<p class="note">The lstm baseline has no topics, so it has no topic-transition matrix.</p></section>`;
  }
  if (!data.transitions) {
    return `${head}<p class="note">This model file holds no transition matrix.</p></section>`;
  }
  const { matrix, source } = data.transitions;
  const emptyRows = matrix.map((values, k) => (values.every((value) => !(value > 0)) ? k : -1)).filter((k) => k >= 0);
  const what =
    source === 'lstm'
      ? "Row j: the LSTM's next-topic distribution pi<sub>t+1</sub>, averaged over the training positions whose sampled topic z<sub>t</sub> is j."
      : 'Row j: how often a position with sampled topic j is followed by each topic (counted over the training sequences, rows normalised)' +
        (data.model === 'lda'
          ? '; lda has no topic dynamics of its own, so this is what its sampled paths show.'
          : '.');
  const svg = heatmap(
    matrix.map((values) => values.map((value) => (Number.isFinite(value) ? value : 0))),
    {
      title: `Topic-transition matrix (${matrix.length} x ${matrix.length})`,
      rowLabel: 'current topic z_t',
      columnLabel: 'next topic z_t+1',
      dataId: 'transition-data',
    },
  );
  const rounded = matrix.map((values) =>
    values.map((value) => (Number.isFinite(value) ? Number(value.toPrecision(4)) : null)),
  );
  const empty = emptyRows.length ? ` Grey rows: topics that no training position held (${emptyRows.length}).` : '';
  return (
    `${head}<figure>${svg}<figcaption>${what} Colour follows the square root of the probability so that small ` +
    `transitions stay visible; the scale is labelled with probabilities.${empty}</figcaption></figure>` +
    '<p class="readout note" id="transition-data-readout"></p>' +
    `<script type="application/json" id="transition-data">${jsonForScript(rounded)}</script></section>`
  );
}

function topicSwatch(topic: number): string {
  return `<span class="swatch" style="background:${topicColour(topic)};color:${topicTextColour(topic)}">${topic}</span>`;
}

function topicCard(topic: ReportTopic, totalTokens: number): string {
  const share = totalTokens > 0 ? (100 * topic.tokens) / totalTokens : 0;
  const top = topic.actions.length ? Math.max(...topic.actions.map((entry) => entry.probability)) : 1;
  const rows = topic.actions
    .map(
      (entry) =>
        `<tr><td class="action">${escapeHtml(entry.action)}</td>` +
        `<td class="bar"><span style="width:${((100 * entry.probability) / (top || 1)).toFixed(1)}%"></span></td>` +
        `<td class="num">${entry.probability.toFixed(3)}</td></tr>`,
    )
    .join('');
  return (
    `<div class="topic"><h3>${topicSwatch(topic.topic)} topic ${topic.topic} ` +
    `<span class="muted">${share.toFixed(1)}% of tokens</span></h3><table>${rows}</table></div>`
  );
}

function topicsSection(data: ReportData): string {
  const head = '<section id="topics"><h2>Top actions per topic</h2>';
  if (!data.topics) return `${head}<p class="note">The lstm baseline has no topics.</p></section>`;
  const total = data.topics.reduce((sum, topic) => sum + topic.tokens, 0);
  return (
    `${head}<p class="note">phi<sub>k,w</sub> = (n<sub>k,w</sub> + beta) / (n<sub>k</sub> + V beta) of each topic's ` +
    `most probable actions; the share is the topic's fraction of the training tokens.</p>` +
    `<div class="topics">${data.topics.map((topic) => topicCard(topic, total)).join('')}</div></section>`
  );
}

function trajectoryFigure(trajectory: ReportTrajectory, topics: ReportTopic[] | null): string {
  // legend: the topics this sequence visits, most frequent first, each with its top action
  const frequency = new Map<number, number>();
  for (const topic of trajectory.topics) frequency.set(topic, (frequency.get(topic) ?? 0) + 1);
  const visited = [...frequency.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const legend = visited
    .map(([topic, count]) => {
      const top = topics?.[topic]?.actions[0]?.action;
      return `<span>${topicSwatch(topic)} ${count}x${top === undefined ? '' : ` <span class="action">${escapeHtml(top)}</span>`}</span>`;
    })
    .join('');
  return (
    `<h3>sequence ${escapeHtml(trajectory.id)} <span class="muted">(${trajectory.topics.length} positions shown, ` +
    `${visited.length} topics)</span></h3>${trajectoryStrip(trajectory.topics, trajectory.actions)}` +
    `<div class="trajectory-legend">${legend}</div>`
  );
}

function trajectoriesSection(data: ReportData): string {
  const head = '<section id="trajectories"><h2>Example topic trajectories</h2>';
  if (data.model === 'lstm')
    return `${head}<p class="note">The lstm baseline has no topics, so no trajectories.</p></section>`;
  if (data.trajectories.length === 0)
    return `${head}<p class="note">This model file holds no example sequences.</p></section>`;
  return (
    `${head}<p class="note">The sampled topic of each position of a few training sequences (the longest ones, ` +
    'up to 200 positions), read left to right in rows of 50; hover a cell for its action. Below each strip: the topics ' +
    `it visits, how often, and each topic's top action.</p>${data.trajectories.map((t) => trajectoryFigure(t, data.topics)).join('')}</section>`
  );
}

function settingsSection(data: ReportData): string {
  const rows = Object.entries(data.settings).map(([key, value]) =>
    row(key, escapeHtml(typeof value === 'number' ? String(value) : JSON.stringify(value))),
  );
  const backends = [
    row('kernel backend (training)', escapeHtml(data.backends.kernel)),
    row('TF.js backend (training)', escapeHtml(data.backends.tf ?? 'n/a (no LSTM)')),
    row('lla version (report)', escapeHtml(data.llaVersion)),
  ];
  if (data.generatedAt) backends.push(row('report written', escapeHtml(data.generatedAt)));
  return (
    '<section id="settings"><h2>Settings and backends</h2><div class="charts">' +
    `<table class="settings"><tr><th colspan="2">training settings</th></tr>${rows.join('')}</table>` +
    `<table class="settings"><tr><th colspan="2">backends</th></tr>${backends.join('')}</table></div></section>`
  );
}

/** The whole page. */
export function renderReport(data: ReportData): string {
  const sections = [
    summarySection(data),
    trainingSection(data),
    throughputSection(data),
    transitionsSection(data),
    topicsSection(data),
    trajectoriesSection(data),
    settingsSection(data),
  ];
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    // nothing may load from anywhere: styles and scripts are inline, charts are inline SVG
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>lla report: ${escapeHtml(data.title)}</title><style>${STYLE}</style><script>${ERROR_CAPTURE}</script></head>` +
    `<body><main><h1>lla report: ${escapeHtml(data.title)}</h1>` +
    `<p class="subtitle">${escapeHtml(modelDescription(data))}</p>${sections.join('\n')}` +
    `<pre id="self-check"></pre></main><script>${PAGE_SCRIPT}</script></body></html>\n`
  );
}
