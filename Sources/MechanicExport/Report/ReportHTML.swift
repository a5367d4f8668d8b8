import Foundation

/// The report page: one self-contained HTML file for a stored run.
///
/// Everything is inline: the style (``ReportStyle``), the script (``ReportScript``), the data
/// (``ReportData`` as one JSON blob) and the figures rendered in Swift (Graphviz circuit graphs,
/// sink heat maps) as SVG; nothing is fetched, so the file works offline and can be mailed. The
/// tables are written here, so they read without a script; the script sorts them and draws the
/// ROC curves, heat maps, faithfulness curves and the attention explorer from the blob.
///
/// The markup is also well-formed XML (every element closed, script and style in CDATA, the
/// blob's `<`, `>` and `&` escaped as `\u003c`…), which the tests check with an XML parser, and
/// the same data gives the same bytes: sorted keys, fixed number formats, no timestamps.
public enum ReportHTML {
    /// The whole page.
    public static func render(_ data: ReportData, figures: ReportFigures = ReportFigures()) throws -> String {
        var page = Page()
        page.line("<!DOCTYPE html>")
        page.line("<html lang=\"en\">")
        page.line("<head>")
        page.line("<meta charset=\"utf-8\"/>")
        page.line("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>")
        page.line("<title>\(e(title(data)))</title>")
        page.line("<style>/*<![CDATA[*/\n" + ReportStyle.css + "/*]]>*/</style>")
        // Registered before the main script, so even a syntax error in it is recorded for the self-test.
        page.line("<script>//<![CDATA[\nwindow.reportErrors = []; window.onerror = function (m) { window.reportErrors.push(String(m)); };\n//]]></script>")
        page.line("</head>")
        page.line("<body>")
        page.line("<header><h1>\(e(title(data)))</h1>")
        page.line(navigation(data, figures: figures))
        page.line("</header>")
        page.line("<main>")
        page.line(runSection(data))
        if let task = data.task { page.line(taskSection(task)) }
        if !data.methods.isEmpty {
            page.line(methodsSection(data))
        }
        if !figures.graphs.isEmpty { page.line(graphSection(data, figures: figures)) }
        if !data.explorer.isEmpty { page.line(explorerSection(data)) }
        if let edges = data.edges { page.line(edgesSection(edges)) }
        if let sinks = data.sinks { page.line(sinksSection(sinks, figures: figures)) }
        page.line("</main>")
        page.line("<aside id=\"panel\" class=\"panel\" hidden=\"hidden\"><button type=\"button\" id=\"panel-close\" aria-label=\"close\">×</button><div id=\"panel-body\"></div></aside>")
        page.line("<pre id=\"selftest\" hidden=\"hidden\"></pre>")
        page.line("<script type=\"application/json\" id=\"report-data\">" + (try blob(data)) + "</script>")
        page.line("<script>//<![CDATA[\n" + ReportScript.javaScript + "//]]></script>")
        page.line("</body>")
        page.line("</html>")
        return page.text
    }

    /// The data as JSON with sorted keys, safe inside a `<script>` element and as XML text.
    public static func blob(_ data: ReportData) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(data), as: UTF8.self)
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for scalar in json.unicodeScalars {
            switch scalar {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An SVG document made fit to sit inside the page: no XML declaration, DOCTYPE or comments.
    public static func inline(svg: String) -> String {
        var text = svg
        if let start = text.range(of: "<svg") { text = String(text[start.lowerBound...]) }
        while let open = text.range(of: "<!--"), let close = text.range(of: "-->", range: open.upperBound..<text.endIndex) {
            text.removeSubrange(open.lowerBound..<close.upperBound)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).filter { !$0.allSatisfy(\.isWhitespace) }
        return lines.joined(separator: "\n")
    }

    // MARK: - Sections

    static func title(_ data: ReportData) -> String {
        var parts = ["Mechanic report", "run \(data.run.id)"]
        if let task = data.task { parts.append(task.name) }
        if let model = data.model { parts.append(model.name) }
        return parts.joined(separator: " · ")
    }

    static func navigation(_ data: ReportData, figures: ReportFigures) -> String {
        var links = [("run", "Run")]
        if data.task != nil { links.append(("task", "Task")) }
        if !data.methods.isEmpty { links += [("methods", "Methods"), ("roc", "ROC"), ("heatmaps", "Heat maps")] }
        if !figures.graphs.isEmpty { links.append(("graph", "Circuit")) }
        if !data.explorer.isEmpty { links.append(("explorer", "Attention")) }
        if data.edges != nil { links.append(("edges", "Edges")) }
        if data.sinks != nil { links.append(("sinks", "Sinks")) }
        return "<nav>" + links.map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined(separator: " ") + "</nav>"
    }

    static func runSection(_ data: ReportData) -> String {
        let r = data.run
        var rows: [(String, String)] = [("command", "mechanic " + (r.arguments.first == r.command ? r.arguments : [r.command] + r.arguments).joined(separator: " ")),
                                        ("status", r.status), ("version", r.version)]
        if let seed = r.seed { rows.append(("seed", String(seed))) }
        if let path = r.modelPath { rows.append(("model", path)) }
        if let m = data.model {
            rows.append(("shape", "\(m.layers) layers × \(m.heads) heads" + (m.hasMLPs ? "" : ", attention-only")))
        }
        var html = "<section id=\"run\"><h2>Run \(r.id)</h2><dl class=\"facts\">"
        html += rows.map { "<dt>\(e($0.0))</dt><dd>\(e($0.1))</dd>" }.joined()
        html += "</dl>"
        if !data.notes.isEmpty {
            html += "<ul class=\"notes\">" + data.notes.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        }
        return html + "</section>"
    }

    static func taskSection(_ task: ReportData.TaskSummary) -> String {
        var html = "<section id=\"task\"><h2>Task: \(e(task.name))</h2><p>"
        html += "\(task.positives) prompts the model gets right (\(task.droppedPositives) dropped as wrong), \(task.negatives) it cannot; "
        html += "metric: \(e(task.metric)). "
        html += task.groundTruth.isEmpty ? "No ground truth." : "Ground truth (\(task.groundTruth.count) heads): "
            + task.groundTruth.map { "<span class=\"head truth\">\(e($0))</span>" }.joined(separator: " ") + "."
        html += "</p>"
        if !task.prompts.isEmpty {
            html += "<details><summary>First \(task.prompts.count) prompts</summary><ol class=\"prompts\">"
            for prompt in task.prompts {
                html += "<li><span class=\"prompt\">\(e(prompt.text))</span>"
                if let answer = prompt.answer { html += " <span class=\"answer\" title=\"answer\">→ \(e(answer))</span>" }
                if let corrupted = prompt.corrupted { html += "<br/><span class=\"corrupted\" title=\"counterfactual\">\(e(corrupted))</span>" }
                html += "</li>"
            }
            html += "</ol></details>"
        }
        return html + "</section>"
    }

    static func methodsSection(_ data: ReportData) -> String {
        let columns: [(String, String)] = [("method", "text"), ("ROC AUC", "number"), ("shuffled AUC", "number"), ("precision", "number"),
                                           ("recall", "number"), ("F1", "number"), ("faithfulness", "number"), ("seconds", "number"),
                                           ("circuit", "text")]
        var html = "<section id=\"methods\"><h2>Methods</h2>"
        html += "<p class=\"hint\">ROC AUC of each method's head scores against the ground truth; precision, recall and F1 of its "
        html += "top-|ground truth| heads; faithfulness: share of the metric those heads keep alone (mean ablation of the rest). "
        if data.headScoresFromEdges {
            html += "This is an edge-level run: a head's score is the total |score| of the edges it sends and receives, "
            html += "comparable with head-level methods by rank, not by scale. "
        }
        html += "Click a column to sort.</p>"
        html += "<table id=\"methods-table\" class=\"sortable\"><thead><tr>"
        html += columns.map { "<th data-type=\"\($0.1)\">\(e($0.0))</th>" }.joined()
        html += "</tr></thead><tbody>"
        for m in data.methods {
            html += "<tr data-method=\"\(e(m.name))\">"
            html += "<td>\(e(m.name))</td>"
            html += number(m.auc, 3)
            html += m.shuffledAUC.map { "<td data-value=\"\(fixed($0[0], 4))\">\(fixed($0[0], 3)) ± \(fixed($0[1], 3))</td>" } ?? "<td data-value=\"\">–</td>"
            html += number(m.precision, 2) + number(m.recall, 2) + number(m.f1, 2)
            html += m.faithfulness.map { "<td data-value=\"\(fixed($0, 4))\">\(fixed($0 * 100, 0))%</td>" } ?? "<td data-value=\"\">–</td>"
            html += number(m.seconds, 2)
            html += "<td>" + m.circuit.map { "<span class=\"head\(data.task?.groundTruth.contains($0) == true ? " truth" : "")\">\(e($0))</span>" }
                .joined(separator: " ") + "</td>"
            html += "</tr>"
        }
        html += "</tbody></table></section>"
        html += "<section id=\"roc\"><h2>ROC curves</h2><div id=\"roc-chart\" class=\"chart\"></div></section>"
        html += "<section id=\"heatmaps\"><h2>Scores per layer × head</h2><p class=\"hint\">Blue above zero, red below, "
        html += "each method on its own scale; ground-truth heads outlined. Click a cell for the head's panel.</p>"
        html += "<div id=\"heatmap-grid\" class=\"heatmaps\"></div></section>"
        return html
    }

    static func graphSection(_ data: ReportData, figures: ReportFigures) -> String {
        // The graph shown first is the best method's by ROC AUC (the first one without AUCs).
        let auc = { (name: String) in data.methods.first { $0.name == name }?.auc ?? -1 }
        let shown = figures.graphs.indices.max { a, b in (auc(figures.graphs[a].method), b) < (auc(figures.graphs[b].method), a) } ?? 0
        var html = "<section id=\"graph\"><h2>Circuit graph</h2><p class=\"hint\">Drawn by Graphviz; click a head for its scores, "
        html += "role and strongest attention.</p><div class=\"tabs\" id=\"graph-tabs\">"
        for (i, graph) in figures.graphs.enumerated() {
            html += "<button type=\"button\" data-graph=\"\(i)\"\(i == shown ? " class=\"active\"" : "")>\(e(graph.method))</button>"
        }
        html += "</div>"
        for (i, graph) in figures.graphs.enumerated() {
            html += "<figure class=\"graph-figure\" data-graph=\"\(i)\"\(i == shown ? "" : " hidden=\"hidden\"")>" + inline(svg: graph.svg) + "</figure>"
        }
        return html + "</section>"
    }

    static func explorerSection(_ data: ReportData) -> String {
        var html = "<section id=\"explorer\"><h2>Attention explorer</h2><p class=\"hint\">Hover a token: each row shows where one "
        html += "head attends <b>from</b> that token (it as the query), or which tokens attend <b>to</b> it (it as the key).</p>"
        html += "<div class=\"controls\"><span class=\"tabs\" id=\"explorer-prompts\">"
        for i in data.explorer.indices {
            html += "<button type=\"button\" data-prompt=\"\(i)\"\(i == 0 ? " class=\"active\"" : "")>prompt \(i + 1)</button>"
        }
        html += "</span> <label><input type=\"radio\" name=\"explorer-mode\" value=\"from\" checked=\"checked\"/> from</label>"
        html += " <label><input type=\"radio\" name=\"explorer-mode\" value=\"to\"/> to</label></div>"
        html += "<div id=\"explorer-tokens\" class=\"tokens\"></div><div class=\"scroll\"><table id=\"explorer-grid\"></table></div></section>"
        return html
    }

    static func edgesSection(_ edges: ReportData.Edges) -> String {
        var html = "<section id=\"edges\"><h2>Edge-level methods</h2><p>\(edges.edgeCount) edges, scored on \(edges.prompts) prompts; "
        html += "patched edges carry the \(e(edges.ablation)) value. CPR: area under the faithfulness curve f; CMD: area under |1 − f| "
        html += "(trapezoids over the raw fractions, as MIB integrates).</p>"
        html += "<table id=\"edges-table\" class=\"sortable\"><thead><tr><th data-type=\"text\">method</th><th data-type=\"number\">CPR</th>"
        html += "<th data-type=\"number\">CMD</th><th data-type=\"number\">node AUC</th><th data-type=\"number\">seconds</th></tr></thead><tbody>"
        for m in edges.methods {
            html += "<tr><td>\(e(m.name))</td>" + number(m.cpr, 3) + number(m.cmd, 3) + number(m.nodeAUC, 3) + number(m.seconds, 2) + "</tr>"
        }
        html += "</tbody></table><div id=\"faithfulness-chart\" class=\"chart\"></div></section>"
        return html
    }

    static func sinksSection(_ sinks: ReportData.Sinks, figures: ReportFigures) -> String {
        var html = "<section id=\"sinks\"><h2>Attention sinks</h2><p>"
        html += sinks.source == "stored" ? "The sink analysis stored with this run" : "Computed for this report on the run's prompts"
        html += " (\(sinks.prompts) prompts; a later position counts as a hidden sink only when at least \(sinks.minimumObservers) "
        html += "queries see it" + (sinks.minimumLift > 0 ? String(format: " and its α is at least %.1f× its score under uniform attention", sinks.minimumLift) : "")
        html += ").</p>"
        for figure in figures.sinks {
            // The SVG carries its own title; the figure's is for screen readers.
            html += "<figure class=\"sink-figure\" aria-label=\"\(e(figure.title))\">" + inline(svg: figure.svg) + "</figure>"
        }
        html += "<table id=\"sinks-table\" class=\"sortable\"><thead><tr><th data-type=\"text\">head</th><th data-type=\"text\">BOS</th>"
        html += "<th data-type=\"number\">first-token mass</th><th data-type=\"number\">first-token sink rate</th>"
        html += "<th data-type=\"number\">entropy</th><th data-type=\"number\">hidden sinks</th></tr></thead><tbody>"
        for h in sinks.heads {
            html += "<tr><td>\(e(h.head))</td><td>\(h.bos ? "with" : "without")</td>" + number(h.firstTokenMass, 3)
                + number(h.firstTokenSinkRate, 3) + number(h.entropy, 3) + number(Double(h.hiddenSinks), 0) + "</tr>"
        }
        html += "</tbody></table>"
        if !sinks.tokens.isEmpty {
            html += "<p>Tokens most often a hidden sink: " + sinks.tokens.map { t in
                "<code>\(e(t[0]))</code> \(e(t[1]))/\(e(t[2]))"
            }.joined(separator: ", ") + ".</p>"
        }
        return html + "</section>"
    }

    // MARK: - Pieces

    static func number(_ x: Double?, _ decimals: Int) -> String {
        guard let x, x.isFinite else { return "<td data-value=\"\">–</td>" }
        return "<td data-value=\"\(fixed(x, max(decimals, 4)))\">\(fixed(x, decimals))</td>"
    }

    static func fixed(_ x: Double, _ decimals: Int) -> String { SinkReportText.fixed(x, decimals) }

    static func e(_ text: String) -> String { SVGDocument.escape(text) }

    struct Page {
        var text = ""
        mutating func line(_ s: String) { text += s + "\n" }
    }
}
