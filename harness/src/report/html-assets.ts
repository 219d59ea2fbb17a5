/** The page's stylesheet: system fonts only, so the report never reaches for the network. */
export const STYLE = `
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --soft:#f6f8fa; --bg:#fff;
  --passed:#1a7f37; --failed:#cf222e; --flaky:#9a6700; --skipped:#6e7781; --accent:#0969da;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
header.top { padding: 14px 24px; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
header.top h1 { font-size: 18px; margin: 0; }
header.top .run { color: var(--muted); }
main { padding: 16px 24px 48px; max-width: 1280px; margin: 0 auto; }
.summary { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 16px; align-items: flex-start; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 96px; }
.card .n { font-size: 22px; font-weight: 600; display: block; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card.passed .n { color: var(--passed); } .card.failed .n { color: var(--failed); }
.card.flaky .n { color: var(--flaky); } .card.skipped .n { color: var(--skipped); }
.card.env { flex: 1 1 320px; }
.card.env dl { display: flex; flex-wrap: wrap; gap: 2px 6px; margin: 6px 0 0; }
.card.env dt { color: var(--muted); } .card.env dd { margin: 0 14px 0 0; overflow-wrap: anywhere; font-weight: 600; }
.toolbar { position: sticky; top: 0; z-index: 5; background: var(--bg); display: flex; gap: 8px; align-items: center; padding: 8px 0; border-bottom: 1px solid var(--line); margin-bottom: 12px; flex-wrap: wrap; }
.toolbar button { font: inherit; border: 1px solid var(--line); background: var(--soft); border-radius: 16px; padding: 3px 12px; cursor: pointer; }
.toolbar button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
.toolbar input { font: inherit; margin-left: auto; min-width: 260px; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; }
.empty { color: var(--muted); padding: 24px; text-align: center; }
details.scenario { border: 1px solid var(--line); border-radius: 8px; margin-bottom: 8px; }
details.scenario > summary { list-style: none; cursor: pointer; padding: 8px 12px; display: flex; gap: 10px; align-items: center; }
details.scenario > summary::-webkit-details-marker { display: none; }
details.scenario > summary::before { content: "▸"; color: var(--muted); width: 10px; }
details.scenario[open] > summary::before { content: "▾"; }
details.scenario[open] > summary { border-bottom: 1px solid var(--line); background: var(--soft); border-radius: 8px 8px 0 0; }
summary .title { font-weight: 600; overflow-wrap: anywhere; }
summary .file { color: var(--muted); }
summary .right { margin-left: auto; display: flex; gap: 8px; align-items: center; color: var(--muted); white-space: nowrap; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; background: var(--skipped); white-space: nowrap; }
.badge.passed { background: var(--passed); } .badge.failed, .badge.timedOut, .badge.interrupted { background: var(--failed); }
.badge.flaky { background: var(--flaky); }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 10px; padding: 0 7px; font-size: 12px; color: var(--muted); }
.body { padding: 4px 12px 12px; }
details.attempt { margin-top: 10px; }
details.attempt > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
details.attempt > summary .err { font-weight: normal; color: var(--failed); margin-left: 8px; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 16px 0 6px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 4px 0; overflow: auto; max-height: 420px; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.error { border-color: #ffcecb; background: #ffebe9; color: #82071e; }
ul.checks { list-style: none; padding: 0; margin: 0; }
ul.checks li { padding: 3px 0; }
.ok { color: var(--passed); } .bad { color: var(--failed); } .skip { color: var(--skipped); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num { text-align: right; white-space: nowrap; color: var(--muted); width: 1%; }
td.node { white-space: nowrap; width: 1%; }
td.fields { overflow-wrap: anywhere; }
tr.error td { color: var(--failed); }
.seq { overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; background: #fff;
  display: grid; grid-template-columns: max-content max-content; }
.seq svg { display: block; font: 11px system-ui, sans-serif; }
.seq-corner, .seq-head, .seq-gutter { position: sticky; background: #fff; }
.seq-corner { top: 0; left: 0; z-index: 3; border-bottom: 1px solid var(--line); border-right: 1px solid var(--line); }
.seq-head { top: 0; z-index: 2; border-bottom: 1px solid var(--line); }
.seq-gutter { left: 0; z-index: 2; border-right: 1px solid var(--line); }
.seq-gutter text { text-anchor: end; fill: var(--muted); font-family: ui-monospace, monospace; font-size: 10px; }
.seq-head rect { fill: #ddf4ff; stroke: #54aeff; }
.seq-head text { text-anchor: middle; font-weight: 600; fill: var(--fg); }
.seq .lifeline { stroke: #afb8c1; stroke-dasharray: 4 4; }
.seq .arrow line, .seq .arrow path { stroke-width: 1.5; fill: none; }
.seq .arrow text.label { text-anchor: middle; }
.seq .arrow text.self { text-anchor: start; }
.seq .arrow:hover text.label { font-weight: 700; }
.seq .tone-ok line, .seq .tone-ok path { stroke: var(--passed); } .seq .tone-ok polygon, .seq .tone-ok text.label { fill: var(--passed); }
.seq .tone-error line, .seq .tone-error path { stroke: var(--failed); } .seq .tone-error polygon, .seq .tone-error text.label { fill: var(--failed); }
.seq .tone-neutral line, .seq .tone-neutral path { stroke: #57606a; } .seq .tone-neutral polygon, .seq .tone-neutral text.label { fill: #24292f; }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0; }
.topo { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.topo svg { display: block; font: 11px system-ui, sans-serif; }
.topo .net line { stroke: #57606a; stroke-width: 3; }
.topo .net text { text-anchor: end; fill: var(--fg); font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
.topo .drop { stroke: #8c959f; stroke-width: 1.5; }
.topo .tap { fill: #57606a; }
.topo .box > rect { fill: #f6f8fa; stroke: #8c959f; }
.topo .box .stripe { stroke: none; fill: #8c959f; }
.topo .kind-dhcp .stripe { fill: #bf8700; } .topo .kind-dns .stripe { fill: #8250df; }
.topo .kind-redirect-server .stripe { fill: #0969da; } .topo .kind-bootstrap-server .stripe { fill: #1a7f37; }
.topo .kind-image-server .stripe { fill: #bc4c00; }
.topo .kind-device > rect { fill: #ddf4ff; stroke: #54aeff; }
.topo .engine rect { fill: #fff; stroke: #54aeff; }
.topo text.name { font-weight: 600; fill: var(--fg); }
.topo text.kind { text-anchor: end; fill: var(--muted); font-size: 10px; }
.topo text.detail { fill: var(--muted); }
.topo text.addr { font-family: ui-monospace, monospace; font-size: 10px; fill: var(--fg); }
.topo .own { fill: #bc4c00; }
.topo .chassis-link path { fill: none; stroke: #54aeff; stroke-width: 1.5; stroke-dasharray: 5 3; }
.topo .chassis-link text { text-anchor: middle; fill: var(--muted); font-size: 10px; }
.legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin: 0 4px 0 10px; }
.legend .ok { background: var(--passed); } .legend .error { background: var(--failed); } .legend .neutral { background: #57606a; }
details.timeline > summary, details.view > summary { cursor: pointer; color: var(--accent); }
.timeline select { font: inherit; margin: 6px 0; }
.timeline .scroll { max-height: 420px; overflow: auto; }
ul.files { padding-left: 18px; margin: 0; }
ul.files li { margin: 3px 0; }
ul.files .meta { color: var(--muted); margin-left: 6px; }
a { color: var(--accent); }
`;

/**
 * The only script: status filter, text search and the per-attempt node filter of the timeline.
 * The page is complete without it; the script just hides rows. The chosen filter is kept in
 * the URL's hash so a link to "#failed" opens on the failures.
 */
export const SCRIPT = `
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('details.scenario'));
  var buttons = Array.prototype.slice.call(document.querySelectorAll('button[data-show]'));
  var search = document.getElementById('search');
  var empty = document.getElementById('empty');
  var groups = ['all', 'failed', 'flaky', 'passed', 'skipped'];
  var hash = location.hash.slice(1);
  var show = groups.indexOf(hash) >= 0 ? hash : 'all';
  function apply() {
    var query = search.value.trim().toLowerCase();
    var visible = 0;
    rows.forEach(function (row) {
      var match = (show === 'all' || row.getAttribute('data-group') === show) &&
        (query === '' || row.getAttribute('data-search').indexOf(query) >= 0);
      row.hidden = !match;
      if (match) visible += 1;
    });
    empty.hidden = visible > 0;
    buttons.forEach(function (button) {
      button.setAttribute('aria-pressed', String(button.getAttribute('data-show') === show));
    });
  }
  buttons.forEach(function (button) {
    button.addEventListener('click', function () {
      show = button.getAttribute('data-show');
      location.hash = show === 'all' ? '' : show;
      apply();
    });
  });
  search.addEventListener('input', apply);
  Array.prototype.forEach.call(document.querySelectorAll('select[data-timeline]'), function (select) {
    select.addEventListener('change', function () {
      var table = document.getElementById(select.getAttribute('data-timeline'));
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = select.value !== '' && row.getAttribute('data-node') !== select.value;
      });
    });
  });
  apply();
})();
`;
