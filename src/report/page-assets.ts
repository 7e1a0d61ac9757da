/**
 * The report page's fixed parts (html.ts writes them inline into every page): its style sheet and its two
 * scripts, plain ES5 so that any browser that opens the file runs them.
 */

/** The page's style sheet. */
export const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 2px; }
h2 { font-size: 17px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 12px 0 4px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 14px 18px; margin: 14px 0; }
.subtitle, .note, .muted { color: #5b6470; }
.note { font-size: 13px; margin: 4px 0 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 28px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-size: 13px; color: #5b6470; max-width: 640px; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg text { font-size: 11px; fill: #3a424d; }
svg .axis-title { font-size: 12px; fill: #1d232b; }
svg .legend { font-size: 12px; fill: #1d232b; }
svg .grid { stroke: #e6e9ed; }
svg .axis { stroke: #8a939e; }
svg .frame { fill: none; stroke: #8a939e; }
svg .band { fill: #eef1f5; }
svg .band-label { font-size: 10px; fill: #6b7480; }
svg .empty-row { fill: #d9dce0; }
svg text.cell-label { font-size: 10px; }
table { border-collapse: collapse; }
td, th { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; color: #3a424d; }
table.metrics td:first-child, table.settings td:first-child { color: #5b6470; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.topics { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; }
.topic { border: 1px solid #e3e6ea; border-radius: 6px; padding: 6px 8px; }
.topic h3 { margin: 0 0 4px; display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; min-width: 22px; padding: 0 4px; border-radius: 3px; text-align: center; font-size: 12px; }
.action { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.bar { width: 70px; }
.bar span { display: block; height: 8px; background: #7a9cc6; border-radius: 2px; }
.topic table { width: 100%; }
.readout { min-height: 1.4em; font-variant-numeric: tabular-nums; }
.trajectory-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 4px 0 12px; }
.trajectory-legend .action { font-size: 11px; }
#self-check { display: none; }
`;

/**
 * Runs first (in <head>): records script errors and blocked network loads, so the self-check can report them.
 * Plain ES5 so it runs in any browser that opens the file.
 */
export const ERROR_CAPTURE = `
window.__reportErrors = [];
window.addEventListener('error', function (event) {
  window.__reportErrors.push(String(event.message || (event.target && event.target.outerHTML) || 'error'));
}, true);
window.addEventListener('securitypolicyviolation', function (event) {
  window.__reportErrors.push('blocked load of ' + event.blockedURI + ' (' + event.violatedDirective + ')');
});
`;

/** Runs last: the heatmap's hover read-out and the self-check. */
export const PAGE_SCRIPT = `
(function () {
  var maps = document.querySelectorAll('svg[data-heatmap]');
  Array.prototype.forEach.call(maps, function (svg) {
    var source = document.getElementById(svg.getAttribute('data-heatmap'));
    var readout = document.getElementById(svg.getAttribute('data-heatmap') + '-readout');
    if (!source || !readout) return;
    var matrix = JSON.parse(source.textContent);
    var cell = Number(svg.getAttribute('data-cell'));
    var left = Number(svg.getAttribute('data-left'));
    var top = Number(svg.getAttribute('data-top'));
    var size = Number(svg.getAttribute('data-size'));
    svg.addEventListener('mousemove', function (event) {
      var box = svg.getBoundingClientRect();
      var scale = svg.viewBox.baseVal.width / box.width;
      var column = Math.floor(((event.clientX - box.left) * scale - left) / cell);
      var row = Math.floor(((event.clientY - box.top) * scale - top) / cell);
      if (row < 0 || column < 0 || row >= size || column >= size) { readout.textContent = ''; return; }
      var value = matrix[row][column];
      readout.textContent = 'from topic ' + row + ' to topic ' + column + ': ' + (value === null ? 'n/a' : value.toPrecision(3));
    });
  });
  function selfCheck() {
    var charts = Array.prototype.map.call(document.querySelectorAll('svg'), function (svg) {
      var box = svg.getBoundingClientRect();
      return { chart: svg.getAttribute('aria-label') || svg.getAttribute('class') || 'svg', width: box.width, height: box.height };
    });
    document.getElementById('self-check').textContent = JSON.stringify({ loaded: true, charts: charts, errors: window.__reportErrors });
  }
  if (document.readyState === 'complete') selfCheck(); else window.addEventListener('load', selfCheck);
})();
`;
