/**
 * A small SVG renderer for the report page: line charts, the topic-transition heatmap with its colour scale,
 * and topic-trajectory strips. Every function returns a complete inline <svg> element as a string, with an
 * explicit width, height and viewBox (so it has a size before any style sheet applies) and every data string
 * escaped. No charting library: the page must be one self-contained file, and these three shapes are simple.
 * The <svg> elements carry no xmlns: inside an HTML page the parser puts them in the SVG namespace itself.
 */
import { escapeHtml } from './escape.js';

const FONT_SIZE = 12;

// ---------------------------------------------------------------------------------------------------- numbers

/** Compact number for axes and labels: 1.2M, 24k, 0.034, 189. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${trimZeros((value / 1e6).toPrecision(digits))}M`;
  if (magnitude >= 1e4) return `${trimZeros((value / 1e3).toPrecision(digits))}k`;
  if (magnitude >= 1000 || value === 0) return String(Math.round(value));
  return trimZeros(value.toPrecision(digits));
}

function trimZeros(text: string): string {
  return text.includes('e') || !text.includes('.') ? text : text.replace(/\.?0+$/, '');
}

/** About `count` evenly spaced round values covering [min, max] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const ticks: number[] = [];
  // the small epsilon keeps a tick that lands on max despite floating-point error
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) {
    ticks.push(Math.abs(tick) < step * 1e-9 ? 0 : Number(tick.toPrecision(12)));
  }
  return ticks;
}

const round = (value: number) => Math.round(value * 10) / 10;

// ---------------------------------------------------------------------------------------------------- colours

/** Viridis (perceptually uniform, readable in grey and by most colour-blind readers), sampled at 9 stops. */
const SEQUENTIAL_STOPS: Array<[number, number, number]> = [
  [0x44, 0x01, 0x54],
  [0x48, 0x28, 0x78],
  [0x3e, 0x49, 0x89],
  [0x31, 0x68, 0x8e],
  [0x26, 0x82, 0x8e],
  [0x1f, 0x9e, 0x89],
  [0x35, 0xb7, 0x79],
  [0x6e, 0xce, 0x58],
  [0xfd, 0xe7, 0x25],
];

/** The sequential colour at t in [0, 1] (clamped), as #rrggbb. */
export function sequentialColour(t: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const position = clamped * (SEQUENTIAL_STOPS.length - 1);
  const low = Math.min(SEQUENTIAL_STOPS.length - 2, Math.floor(position));
  const fraction = position - low;
  const a = SEQUENTIAL_STOPS[low];
  const b = SEQUENTIAL_STOPS[low + 1];
  const channel = (i: number) =>
    Math.round(a[i] + (b[i] - a[i]) * fraction)
      .toString(16)
      .padStart(2, '0');
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

/**
 * A distinct colour per topic for up to about a hundred topics: hues a golden angle apart (neighbouring topic
 * numbers never get similar hues), with three lightness levels to separate hues that come close again.
 */
export function topicColour(topic: number): string {
  const hue = (topic * 137.508) % 360;
  const lightness = [46, 62, 34][topic % 3];
  return `hsl(${hue.toFixed(1)},65%,${lightness}%)`;
}

/** Black or white, whichever reads better on topicColour(topic). */
export function topicTextColour(topic: number): string {
  const hue = (topic * 137.508) % 360;
  const lightness = [46, 62, 34][topic % 3];
  // yellows and greens look lighter than their HSL lightness says
  const looksLight = lightness >= 62 || (lightness >= 46 && hue > 40 && hue < 200);
  return looksLight ? '#000' : '#fff';
}

// ---------------------------------------------------------------------------------------------------- line chart

export interface ChartSeries {
  name: string;
  colour: string;
  /** one point per x; a null y leaves a gap (e.g. no M-step during the lda initialisation sweeps) */
  points: Array<{ x: number; y: number | null }>;
}

export interface LineChartOptions {
  /** read by screen readers and shown on hover */
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** x ranges to shade, e.g. the lda initialisation sweeps */
  bands?: Array<{ from: number; to: number; label: string }>;
  /** x values are whole numbers (iterations): no fractional ticks */
  integerX?: boolean;
  /** the y axis starts at 0 (rates: a cut axis would exaggerate their changes) */
  zeroBased?: boolean;
}

/** A line chart with axes, ticks, a legend and a marker with its value on each point. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 480;
  const height = options.height ?? 260;
  const margin = { left: 64, right: 16, top: 28, bottom: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = options.series.flatMap((series) => series.points.filter((p) => p.y !== null && Number.isFinite(p.y)));
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}">`,
  );
  parts.push(`<title>${escapeHtml(options.title)}</title>`);
  if (points.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="muted">no data</text></svg>`);
    return parts.join('');
  }
  let xMin = Math.min(...points.map((p) => p.x));
  let xMax = Math.max(...points.map((p) => p.x));
  for (const band of options.bands ?? []) {
    xMin = Math.min(xMin, band.from);
    xMax = Math.max(xMax, band.to);
  }
  if (xMax === xMin) {
    xMin -= 1;
    xMax += 1;
  }
  let yMin = Math.min(...points.map((p) => p.y as number));
  let yMax = Math.max(...points.map((p) => p.y as number));
  const pad = yMax > yMin ? (yMax - yMin) * 0.06 : Math.max(1, Math.abs(yMax) * 0.1);
  yMin -= pad;
  yMax += pad;
  // throughput and perplexity are positive: an axis that starts below zero would only waste room
  if ((yMin < 0 || options.zeroBased) && points.every((p) => (p.y as number) >= 0)) yMin = 0;
  const xTicks = niceTicks(xMin, xMax, Math.min(8, Math.max(2, Math.floor(plotWidth / 60)))).filter(
    (tick) => !options.integerX || Number.isInteger(tick),
  );
  const yTicks = niceTicks(yMin, yMax, 5);
  const xOf = (x: number) => round(margin.left + ((x - xMin) / (xMax - xMin)) * plotWidth);
  const yOf = (y: number) => round(margin.top + plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight);

  for (const band of options.bands ?? []) {
    const x0 = xOf(band.from);
    const x1 = xOf(band.to);
    parts.push(
      `<rect x="${x0}" y="${margin.top}" width="${round(Math.max(1, x1 - x0))}" height="${plotHeight}" class="band"/>`,
    );
    parts.push(
      `<text x="${round((x0 + x1) / 2)}" y="${margin.top + 12}" text-anchor="middle" class="band-label">` +
        `${escapeHtml(band.label)}</text>`,
    );
  }
  for (const tick of yTicks) {
    const y = yOf(tick);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(
      `<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${escapeHtml(formatNumber(tick))}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = xOf(tick);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" class="axis"/>`,
    );
    parts.push(
      `<text x="${x}" y="${margin.top + plotHeight + 16}" text-anchor="middle" class="tick">${escapeHtml(formatNumber(tick))}</text>`,
    );
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" class="frame"/>`);
  parts.push(
    `<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle" class="axis-title">` +
      `${escapeHtml(options.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" ` +
      `class="axis-title">${escapeHtml(options.yLabel)}</text>`,
  );

  for (const series of options.series) {
    // a path broken at every missing value
    let path = '';
    let pen = false;
    for (const point of series.points) {
      if (point.y === null || !Number.isFinite(point.y)) {
        pen = false;
        continue;
      }
      path += `${pen ? 'L' : 'M'}${xOf(point.x)} ${yOf(point.y)}`;
      pen = true;
    }
    if (path) parts.push(`<path d="${path}" fill="none" stroke="${series.colour}" stroke-width="2"/>`);
    for (const point of series.points) {
      if (point.y === null || !Number.isFinite(point.y)) continue;
      parts.push(
        `<circle cx="${xOf(point.x)}" cy="${yOf(point.y)}" r="3" fill="${series.colour}">` +
          `<title>${escapeHtml(`${series.name}: ${formatNumber(point.y, 4)} at ${options.xLabel.toLowerCase()} ${point.x}`)}</title></circle>`,
      );
    }
  }
  // legend, above the plot
  let legendX = margin.left;
  for (const series of options.series) {
    parts.push(`<rect x="${legendX}" y="${margin.top - 18}" width="12" height="12" fill="${series.colour}"/>`);
    parts.push(`<text x="${legendX + 16}" y="${margin.top - 8}" class="legend">${escapeHtml(series.name)}</text>`);
    legendX += 28 + series.name.length * FONT_SIZE * 0.6;
  }
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------------- heatmap

export interface HeatmapOptions {
  title: string;
  /** the rows' axis title (left) */
  rowLabel: string;
  /** the columns' axis title (bottom) */
  columnLabel: string;
  /** the id of the <script type="application/json"> holding the matrix, for the page's hover read-out */
  dataId?: string;
}

/** Cell size for a K x K heatmap: about 700 px in all, never smaller than 4 px or larger than 28 px. */
export function heatmapCellSize(k: number): number {
  return Math.max(4, Math.min(28, Math.floor(700 / Math.max(1, k))));
}

/** Colour levels of the heatmap: finer steps are invisible, and equal neighbours merge into one rect. */
const HEATMAP_LEVELS = 64;

/** Label every `stride`-th row and column so that labels stay at least 22 px apart (two digits and a gap). */
export function labelStride(cell: number): number {
  return [1, 2, 5, 10, 20, 25, 50, 100].find((stride) => stride * cell >= 22) ?? 100;
}

/**
 * A square matrix (rows sum to 1, or are all zero when no position had that row's topic) as coloured cells,
 * with topic numbers on both axes and a vertical colour scale. Colour follows sqrt(value / max) so that the
 * small off-diagonal transitions stay visible next to a strong diagonal; the scale's labels are the values.
 */
export function heatmap(matrix: number[][], options: HeatmapOptions): string {
  const k = matrix.length;
  const cell = heatmapCellSize(k);
  const side = cell * k;
  const stride = labelStride(cell);
  const margin = { left: 58, top: 12, bottom: 44, right: 90 };
  const width = margin.left + side + margin.right;
  const height = margin.top + side + margin.bottom;
  let max = 0;
  for (const row of matrix) for (const value of row) if (Number.isFinite(value) && value > max) max = value;
  if (max <= 0) max = 1;
  const colourOf = (value: number) =>
    sequentialColour(Math.round(Math.sqrt(Math.max(0, value) / max) * HEATMAP_LEVELS) / HEATMAP_LEVELS);
  const background = colourOf(0);
  const data = options.dataId
    ? ` data-heatmap="${escapeHtml(options.dataId)}" data-cell="${cell}" ` +
      `data-left="${margin.left}" data-top="${margin.top}" data-size="${k}"`
    : '';
  const parts: string[] = [];
  parts.push(
    `<svg class="heatmap" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}"${data}>`,
  );
  parts.push(`<title>${escapeHtml(options.title)}</title>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${side}" height="${side}" fill="${background}"/>`);
  for (let row = 0; row < k; row++) {
    const values = matrix[row];
    const empty = values.every((value) => !(value > 0));
    if (empty) {
      // no position had this topic: a grey row, not a row of zero probabilities
      parts.push(
        `<rect x="${margin.left}" y="${margin.top + row * cell}" width="${side}" height="${cell}" class="empty-row"/>`,
      );
      continue;
    }
    // runs of one colour become one rect, and the background colour is already painted: keeps K = 100 small
    for (let column = 0; column < k;) {
      const colour = colourOf(values[column]);
      let end = column + 1;
      while (end < k && colourOf(values[end]) === colour) end++;
      if (colour !== background) {
        parts.push(
          `<rect x="${margin.left + column * cell}" y="${margin.top + row * cell}" width="${(end - column) * cell}" ` +
            `height="${cell}" fill="${colour}"/>`,
        );
      }
      column = end;
    }
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${side}" height="${side}" class="frame"/>`);
  for (let index = 0; index < k; index += stride) {
    const centre = index * cell + cell / 2;
    parts.push(
      `<text x="${margin.left - 4}" y="${round(margin.top + centre + 4)}" text-anchor="end" class="tick">${index}</text>`,
    );
    parts.push(
      `<text x="${round(margin.left + centre)}" y="${margin.top + side + 14}" text-anchor="middle" class="tick">${index}</text>`,
    );
  }
  parts.push(
    `<text x="${margin.left + side / 2}" y="${height - 6}" text-anchor="middle" class="axis-title">` +
      `${escapeHtml(options.columnLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${margin.top + side / 2}) rotate(-90)" text-anchor="middle" ` +
      `class="axis-title">${escapeHtml(options.rowLabel)}</text>`,
  );

  // colour scale: 48 bands from the top (max) to the bottom (0), labelled with values
  const scaleX = margin.left + side + 18;
  const scaleHeight = Math.max(120, Math.min(side, 320));
  const bands = 48;
  for (let band = 0; band < bands; band++) {
    const t = 1 - (band + 0.5) / bands;
    parts.push(
      `<rect x="${scaleX}" y="${round(margin.top + (band * scaleHeight) / bands)}" width="14" ` +
        `height="${round(scaleHeight / bands + 0.6)}" fill="${sequentialColour(t)}"/>`,
    );
  }
  parts.push(`<rect x="${scaleX}" y="${margin.top}" width="14" height="${scaleHeight}" class="frame"/>`);
  for (const tick of niceTicks(0, max, 5)) {
    const y = round(margin.top + scaleHeight * (1 - Math.sqrt(tick / max)));
    parts.push(`<line x1="${scaleX + 14}" x2="${scaleX + 18}" y1="${y}" y2="${y}" class="axis"/>`);
    parts.push(`<text x="${scaleX + 21}" y="${y + 4}" class="tick">${escapeHtml(formatNumber(tick))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------------- trajectory

export interface TrajectoryOptions {
  /** positions per row before the strip wraps */
  perRow?: number;
  /** cell width and height in px */
  cell?: number;
}

/**
 * One sequence's sampled topics as a strip of coloured cells (one per position, the topic number inside),
 * wrapped into rows; each row starts with its first position. Hovering a cell names its action and topic.
 */
export function trajectoryStrip(
  topics: readonly number[],
  actions: readonly string[],
  options: TrajectoryOptions = {},
): string {
  const perRow = options.perRow ?? 50;
  const cell = options.cell ?? 20;
  const left = 40;
  const rows = Math.max(1, Math.ceil(topics.length / perRow));
  const width = left + perRow * cell + 2;
  const height = rows * (cell + 4) + 2;
  const parts: string[] = [];
  parts.push(
    `<svg class="trajectory" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img" aria-label="topic per position">`,
  );
  for (let row = 0; row < rows; row++) {
    const y = 1 + row * (cell + 4);
    parts.push(
      `<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end" class="tick">${row * perRow + 1}</text>`,
    );
  }
  topics.forEach((topic, position) => {
    const x = left + (position % perRow) * cell;
    const y = 1 + Math.floor(position / perRow) * (cell + 4);
    const action = actions[position] ?? '';
    parts.push(
      `<g><rect x="${x}" y="${y}" width="${cell - 1}" height="${cell}" fill="${topicColour(topic)}"/>` +
        `<text x="${x + (cell - 1) / 2}" y="${y + cell / 2 + 3}" text-anchor="middle" class="cell-label" ` +
        `fill="${topicTextColour(topic)}">${topic}</text>` +
        `<title>${escapeHtml(`position ${position + 1}: ${action} (topic ${topic})`)}</title></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
