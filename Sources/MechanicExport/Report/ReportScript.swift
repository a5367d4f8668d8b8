/// The report page's script: small vanilla JavaScript, no libraries, nothing fetched.
///
/// It reads the JSON blob (`#report-data`), makes the tables sortable, draws the ROC curves,
/// the layer × head heat maps, the faithfulness curves and the attention explorer as SVG and
/// HTML, and wires the circuit graph's nodes to the head panel. Opened as `report.html#selftest`,
/// it then exercises itself (clicks a graph node, hovers a token, sorts a table) and writes what
/// it found as JSON into `<pre id="selftest">`, which a headless browser's `--dump-dom` prints:
/// the browser test reads that. The code avoids `]]>` and `</` so the page stays valid XML.
enum ReportScript {
    static let javaScript = #"""
    (function () {
      'use strict';
      var data = JSON.parse(document.getElementById('report-data').textContent);
      var SVG = 'http://www.w3.org/2000/svg';
      var COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#999999'];
      var L = data.model ? data.model.layers : 0, H = data.model ? data.model.heads : 0;
      var truth = {};
      (data.task ? data.task.groundTruth : []).forEach(function (h) { truth[h] = true; });

      function el(tag, attrs, text) {
        var node = document.createElement(tag);
        for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
        if (text != null) node.textContent = text;
        return node;
      }
      function sv(tag, attrs, text) {
        var node = document.createElementNS(SVG, tag);
        for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
        if (text != null) node.textContent = text;
        return node;
      }
      function fmt(x, d) { return x == null ? '–' : x.toFixed(d); }
      function headName(i) { return 'a' + Math.floor(i / H) + '.' + (i % H); }
      function headIndex(name) {
        var m = /^a(\d+)\.(\d+)$/.exec(name);
        return m ? Number(m[1]) * H + Number(m[2]) : -1;
      }
      function visible(token) { return token.replace(/ /g, '\u2423').replace(/\n/g, '\u21b5').replace(/\t/g, '\u21e5'); }

      // Sortable tables: numbers by data-value (missing values last), text by its content.
      function sortable(table) {
        var ths = table.querySelectorAll('thead th');
        Array.prototype.forEach.call(ths, function (th, col) {
          th.addEventListener('click', function () {
            var ascending = th.getAttribute('aria-sort') !== 'ascending';
            Array.prototype.forEach.call(ths, function (o) { o.removeAttribute('aria-sort'); });
            th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
            var numeric = th.getAttribute('data-type') === 'number';
            var body = table.tBodies[0];
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
              var x = a.cells[col], y = b.cells[col];
              if (numeric) {
                var u = x.getAttribute('data-value'), v = y.getAttribute('data-value');
                u = u === '' || u == null ? NaN : Number(u);
                v = v === '' || v == null ? NaN : Number(v);
                if (isNaN(u) || isNaN(v)) return isNaN(u) - isNaN(v);
                return ascending ? u - v : v - u;
              }
              var c = x.textContent.localeCompare(y.textContent);
              return ascending ? c : -c;
            });
            rows.forEach(function (r) { body.appendChild(r); });
          });
        });
      }
      Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), sortable);

      // A line chart: axes, grid, one polyline per series, a legend.
      function lineChart(target, opts) {
        var w = 560, h = 340, left = 52, right = 190, top = 16, bottom = 42;
        var pw = w - left - right, ph = h - top - bottom;
        var root = sv('svg', { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, 'class': 'line-chart' });
        function px(x) { return left + (opts.x(x) - opts.x(opts.xMin)) / (opts.x(opts.xMax) - opts.x(opts.xMin)) * pw; }
        function py(y) { return top + ph - (y - opts.yMin) / (opts.yMax - opts.yMin) * ph; }
        opts.xTicks.forEach(function (t) {
          root.appendChild(sv('line', { x1: px(t), x2: px(t), y1: top, y2: top + ph, stroke: '#eeeeee' }));
          root.appendChild(sv('text', { x: px(t), y: top + ph + 14, 'text-anchor': 'middle', 'font-size': 10 }, opts.xLabel(t)));
        });
        opts.yTicks.forEach(function (t) {
          root.appendChild(sv('line', { x1: left, x2: left + pw, y1: py(t), y2: py(t), stroke: '#eeeeee' }));
          root.appendChild(sv('text', { x: left - 6, y: py(t) + 3, 'text-anchor': 'end', 'font-size': 10 }, String(t)));
        });
        root.appendChild(sv('rect', { x: left, y: top, width: pw, height: ph, fill: 'none', stroke: '#888888' }));
        root.appendChild(sv('text', { x: left + pw / 2, y: h - 6, 'text-anchor': 'middle', 'font-size': 11 }, opts.xTitle));
        root.appendChild(sv('text', { x: 12, y: top + ph / 2, 'text-anchor': 'middle', 'font-size': 11,
                                      transform: 'rotate(-90 12 ' + (top + ph / 2) + ')' }, opts.yTitle));
        (opts.guides || []).forEach(function (g) {
          root.appendChild(sv('line', { x1: px(g[0]), y1: py(g[1]), x2: px(g[2]), y2: py(g[3]), stroke: '#bbbbbb', 'stroke-dasharray': '4 3' }));
        });
        opts.series.forEach(function (s, i) {
          var color = COLORS[i % COLORS.length];
          var points = s.points.map(function (p) { return px(p[0]).toFixed(1) + ',' + py(Math.max(opts.yMin, Math.min(opts.yMax, p[1]))).toFixed(1); });
          root.appendChild(sv('polyline', { points: points.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'class': 'series' }));
          var ly = top + 10 + i * 16;
          root.appendChild(sv('line', { x1: left + pw + 12, x2: left + pw + 30, y1: ly, y2: ly, stroke: color, 'stroke-width': 3 }));
          root.appendChild(sv('text', { x: left + pw + 34, y: ly + 4, 'font-size': 11 }, s.label));
        });
        target.appendChild(root);
      }

      function drawROC() {
        var target = document.getElementById('roc-chart');
        if (!target) return;
        var series = data.methods.filter(function (m) { return m.roc.length > 0; }).map(function (m) {
          return { label: m.name + ' (' + fmt(m.auc, 3) + ')', points: m.roc };
        });
        if (series.length === 0) { target.appendChild(el('p', { 'class': 'hint' }, 'No ground truth, so no ROC curves.')); return; }
        lineChart(target, {
          series: series, x: function (x) { return x; }, xMin: 0, xMax: 1, yMin: 0, yMax: 1,
          xTicks: [0, 0.25, 0.5, 0.75, 1], yTicks: [0, 0.25, 0.5, 0.75, 1], xLabel: String,
          xTitle: 'false-positive rate', yTitle: 'true-positive rate', guides: [[0, 0, 1, 1]]
        });
      }

      function color(v) {
        // v in [-1, 1]: red below zero, white at zero, blue above.
        var t = Math.min(1, Math.abs(v));
        var base = v >= 0 ? [0, 114, 178] : [213, 94, 0];
        var c = base.map(function (b) { return Math.round(255 + (b - 255) * t); });
        return 'rgb(' + c.join(',') + ')';
      }

      function drawHeatmaps() {
        var target = document.getElementById('heatmap-grid');
        if (!target || !L) return;
        var cell = 22, left = 52, top = 26;
        data.methods.forEach(function (m) {
          var most = 0;
          m.scores.forEach(function (s) { if (s != null) most = Math.max(most, Math.abs(s)); });
          var w = left + H * cell + 8, h = top + L * cell + 8;
          var root = sv('svg', { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, 'class': 'heatmap', 'data-method': m.name });
          for (var hd = 0; hd < H; hd++) {
            root.appendChild(sv('text', { x: left + hd * cell + cell / 2, y: top - 6, 'text-anchor': 'middle', 'font-size': 10 }, String(hd)));
          }
          for (var l = 0; l < L; l++) {
            root.appendChild(sv('text', { x: left - 6, y: top + l * cell + cell / 2 + 3, 'text-anchor': 'end', 'font-size': 10 }, 'layer ' + l));
            for (var hh = 0; hh < H; hh++) {
              var i = l * H + hh, s = m.scores[i], name = headName(i);
              var r = sv('rect', { x: left + hh * cell, y: top + l * cell, width: cell - 1, height: cell - 1, 'class': 'cell', 'data-head': name,
                                   fill: s == null ? '#eeeeee' : color(most > 0 ? s / most : 0) });
              r.appendChild(sv('title', {}, name + ': ' + (s == null ? 'not scored' : s.toPrecision(4)) + (truth[name] ? ' (ground truth)' : '')));
              r.addEventListener('click', (function (n) { return function () { openPanel(n); }; })(name));
              root.appendChild(r);
              if (truth[name]) {
                root.appendChild(sv('rect', { x: left + hh * cell + 1, y: top + l * cell + 1, width: cell - 3, height: cell - 3, fill: 'none',
                                              stroke: '#000000', 'stroke-width': 2, 'class': 'truth-outline', 'pointer-events': 'none' }));
              }
            }
          }
          var figure = el('figure');
          figure.appendChild(el('figcaption', {}, m.name));
          figure.appendChild(root);
          target.appendChild(figure);
        });
      }

      function drawFaithfulness() {
        var target = document.getElementById('faithfulness-chart');
        if (!target || !data.edges) return;
        var series = data.edges.methods.filter(function (m) { return m.curve.length > 0; }).map(function (m) {
          return { label: m.name + ' (CPR ' + fmt(m.cpr, 2) + ', CMD ' + fmt(m.cmd, 2) + ')',
                   points: m.curve.map(function (p) { return [p[0], p[2]]; }) };
        });
        if (series.length === 0) return;
        var lo = 0, hi = 1;
        series.forEach(function (s) { s.points.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }); });
        lo = Math.floor(lo * 4) / 4; hi = Math.ceil(hi * 4) / 4;
        var yTicks = [];
        for (var t = lo; t <= hi + 1e-9; t += (hi - lo) > 2 ? 0.5 : 0.25) yTicks.push(Math.round(t * 100) / 100);
        lineChart(target, {
          series: series, x: Math.log, xMin: 0.001, xMax: 1, yMin: lo, yMax: hi,
          xTicks: [0.001, 0.01, 0.1, 1], yTicks: yTicks, xLabel: function (x) { return (x * 100) + '%'; },
          xTitle: 'edges kept (share of all, log scale)', yTitle: 'faithfulness f', guides: [[0.001, 1, 1, 1]]
        });
      }

      // The head panel: scores and ranks of every method, role, head types and strongest attention.
      var panel = document.getElementById('panel'), panelBody = document.getElementById('panel-body');
      document.getElementById('panel-close').addEventListener('click', function () { panel.hidden = true; });
      function openPanel(name) {
        var index = headIndex(name);
        panelBody.textContent = '';
        panelBody.appendChild(el('h3', {}, name));
        var info = data.heads[name] || {};
        var facts = el('p');
        facts.appendChild(document.createTextNode('Role: ' + (info.role || 'none known') + '. '));
        facts.appendChild(document.createTextNode(truth[name] ? 'In the ground truth.' : (data.task && data.task.groundTruth.length ? 'Not in the ground truth.' : '')));
        panelBody.appendChild(facts);
        if (data.methods.length) {
          var table = el('table');
          var head = el('tr');
          ['method', 'score', 'rank'].forEach(function (t) { head.appendChild(el('th', {}, t)); });
          table.appendChild(head);
          data.methods.forEach(function (m) {
            var s = m.scores[index];
            var rank = s == null ? null : 1 + m.scores.filter(function (o) { return o != null && o > s; }).length;
            var row = el('tr');
            row.appendChild(el('td', {}, m.name));
            row.appendChild(el('td', {}, s == null ? '–' : s.toPrecision(4)));
            row.appendChild(el('td', {}, rank == null ? '–' : rank + ' of ' + m.scores.length));
            table.appendChild(row);
          });
          panelBody.appendChild(table);
        }
        var types = Object.keys(info.types || {}).sort();
        if (types.length) {
          panelBody.appendChild(el('h4', {}, 'Head types'));
          var list = el('ul');
          types.forEach(function (t) { list.appendChild(el('li', {}, t + ': ' + info.types[t].toFixed(3))); });
          panelBody.appendChild(list);
        }
        var links = (data.topAttention || {})[name] || [];
        if (links.length) {
          panelBody.appendChild(el('h4', {}, 'Strongest attention (explorer prompts, first token left out)'));
          var ol = el('ol', { 'class': 'top-attention' });
          links.forEach(function (a) {
            var tokens = data.explorer[a.prompt].tokens;
            ol.appendChild(el('li', {}, 'prompt ' + (a.prompt + 1) + ': ' + a.from + ' \u201c' + visible(tokens[a.from]) + '\u201d \u2192 ' +
                                        a.to + ' \u201c' + visible(tokens[a.to]) + '\u201d  ' + a.weight.toFixed(3)));
          });
          panelBody.appendChild(ol);
        }
        Array.prototype.forEach.call(document.querySelectorAll('g.node.selected'), function (g) { g.classList.remove('selected'); });
        Array.prototype.forEach.call(document.querySelectorAll('g.node.head-node'), function (g) {
          if (g.getAttribute('data-head') === name) g.classList.add('selected');
        });
        panel.setAttribute('data-head', name);
        panel.hidden = false;
      }

      function wireGraphs() {
        Array.prototype.forEach.call(document.querySelectorAll('.graph-figure g.node'), function (g) {
          var title = g.querySelector('title');
          // Head-level graphs name heads a1.5; edge-level ones use MIB's a1.h5.
          var m = /^a(\d+)\.h?(\d+)$/.exec(title ? title.textContent.trim() : '');
          if (!m || !H) return;
          var name = 'a' + m[1] + '.' + m[2];
          g.classList.add('head-node');
          g.setAttribute('data-head', name);
          g.addEventListener('click', function () { openPanel(name); });
        });
        var tabs = document.querySelectorAll('#graph-tabs button');
        Array.prototype.forEach.call(tabs, function (b) {
          b.addEventListener('click', function () {
            Array.prototype.forEach.call(tabs, function (o) { o.classList.toggle('active', o === b); });
            Array.prototype.forEach.call(document.querySelectorAll('.graph-figure'), function (f) {
              f.hidden = f.getAttribute('data-graph') !== b.getAttribute('data-graph');
            });
          });
        });
      }

      // The attention explorer: one row per head, one cell per token.
      var explorer = { prompt: 0, focus: -1 };
      function mode() {
        var checked = document.querySelector('input[name="explorer-mode"]:checked');
        return checked ? checked.value : 'from';
      }
      function weight(pattern, q, k) { return k > q ? 0 : pattern[q * (q + 1) / 2 + k] / 1000; }
      function buildExplorer() {
        var grid = document.getElementById('explorer-grid'), strip = document.getElementById('explorer-tokens');
        if (!grid || !data.explorer.length) return;
        var prompt = data.explorer[explorer.prompt];
        grid.textContent = '';
        strip.textContent = '';
        prompt.tokens.forEach(function (t, i) {
          var span = el('span', { 'class': 'tok', 'data-pos': i, title: 'position ' + i }, visible(t));
          span.addEventListener('mouseover', function () { focus(i); });
          strip.appendChild(span);
        });
        var header = el('tr');
        header.appendChild(el('th'));
        prompt.tokens.forEach(function (t, i) { header.appendChild(el('th', { 'class': 'col', title: 'position ' + i }, visible(t))); });
        grid.appendChild(header);
        for (var i = 0; i < L * H; i++) {
          var name = headName(i);
          var row = el('tr', { 'data-head': name, 'class': i % H === 0 ? 'layer-start' : '' });
          var label = el('th', { 'class': truth[name] ? 'truth' : '' }, name);
          label.addEventListener('click', (function (n) { return function () { openPanel(n); }; })(name));
          row.appendChild(label);
          for (var k = 0; k < prompt.tokens.length; k++) row.appendChild(el('td', { 'class': 'cell', 'data-pos': k }));
          grid.appendChild(row);
        }
        focus(Math.min(explorer.focus < 0 ? prompt.tokens.length - 1 : explorer.focus, prompt.tokens.length - 1));
      }
      function focus(p) {
        explorer.focus = p;
        var prompt = data.explorer[explorer.prompt], from = mode() === 'from';
        Array.prototype.forEach.call(document.querySelectorAll('#explorer-tokens .tok'), function (s, i) { s.classList.toggle('active', i === p); });
        var rows = document.querySelectorAll('#explorer-grid tr[data-head]');
        Array.prototype.forEach.call(rows, function (row, i) {
          var pattern = prompt.patterns[i];
          Array.prototype.forEach.call(row.querySelectorAll('td.cell'), function (td, k) {
            var w = from ? weight(pattern, p, k) : weight(pattern, k, p);
            td.style.background = color(w);
            td.title = headName(i) + ': ' + (from ? p + ' \u2192 ' + k : k + ' \u2192 ' + p) + ' ' + w.toFixed(3);
          });
        });
      }
      function wireExplorer() {
        var buttons = document.querySelectorAll('#explorer-prompts button');
        Array.prototype.forEach.call(buttons, function (b) {
          b.addEventListener('click', function () {
            Array.prototype.forEach.call(buttons, function (o) { o.classList.toggle('active', o === b); });
            explorer.prompt = Number(b.getAttribute('data-prompt'));
            explorer.focus = -1;
            buildExplorer();
          });
        });
        Array.prototype.forEach.call(document.querySelectorAll('input[name="explorer-mode"]'), function (r) {
          r.addEventListener('change', function () { if (explorer.focus >= 0) focus(explorer.focus); });
        });
        buildExplorer();
      }

      function run(step, name) {
        try { step(); } catch (e) { window.reportErrors.push(name + ': ' + (e && e.message ? e.message : String(e))); }
      }
      run(drawROC, 'roc');
      run(drawHeatmaps, 'heatmaps');
      run(drawFaithfulness, 'faithfulness');
      run(wireGraphs, 'graph');
      run(wireExplorer, 'explorer');

      // report.html#selftest: exercise the page and write what happened into <pre id="selftest">.
      function selfTest() {
        var result = { graphNodes: 0, panelOpened: false, panelHead: null, explorerCells: 0, explorerExpected: 0,
                       hoverColored: false, sorted: null, rocCurves: 0, heatmapCells: 0, truthOutlines: 0, faithfulnessCurves: 0 };
        var nodes = document.querySelectorAll('.graph-figure g.node.head-node');
        result.graphNodes = nodes.length;
        if (nodes.length) {
          var first = nodes[0];
          first.dispatchEvent(new MouseEvent('click', { bubbles: true }));
          result.panelOpened = !panel.hidden;
          result.panelHead = panel.getAttribute('data-head');
          result.expectedHead = first.getAttribute('data-head');
        }
        if (data.explorer.length) {
          result.explorerCells = document.querySelectorAll('#explorer-grid td.cell').length;
          result.explorerExpected = data.explorer[0].tokens.length * L * H;
          var token = document.querySelector('#explorer-tokens .tok[data-pos="1"]');
          if (token) {
            token.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
            result.hoverColored = document.querySelector('#explorer-tokens .tok.active') === token
              && document.querySelectorAll('#explorer-grid td.cell[title]').length === result.explorerCells;
          }
        }
        var table = document.getElementById('methods-table');
        if (table) {
          var th = table.querySelectorAll('thead th')[1];
          th.dispatchEvent(new MouseEvent('click', { bubbles: true }));
          th.dispatchEvent(new MouseEvent('click', { bubbles: true }));
          var values = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[1].getAttribute('data-value'); })
            .filter(function (v) { return v !== ''; }).map(Number);
          result.sorted = values.every(function (v, i) { return i === 0 || values[i - 1] >= v; });
        }
        result.rocCurves = document.querySelectorAll('#roc-chart polyline.series').length;
        result.heatmapCells = document.querySelectorAll('#heatmap-grid rect.cell').length;
        result.truthOutlines = document.querySelectorAll('#heatmap-grid rect.truth-outline').length;
        result.faithfulnessCurves = document.querySelectorAll('#faithfulness-chart polyline.series').length;
        result.errors = window.reportErrors.slice();
        var pre = document.getElementById('selftest');
        pre.textContent = JSON.stringify(result);
        pre.hidden = false;
      }
      if (location.hash === '#selftest') run(selfTest, 'selftest');
      // report.html#a3.6 opens that head's panel: a link to a head in an issue or a notebook.
      if (/^#a\d+\.\d+$/.test(location.hash) && headIndex(location.hash.slice(1)) >= 0) run(function () { openPanel(location.hash.slice(1)); }, 'link');
    })();

    """#
}
