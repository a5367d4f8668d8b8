/// The report page's style sheet: system fonts, one column, tables and figures sized to fit.
enum ReportStyle {
    static let css = """
    :root { --ink: #1f2328; --faint: #6e7781; --line: #d0d7de; --accent: #0072b2; --truth: #e69f00; --bg: #ffffff; --soft: #f6f8fa; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: var(--bg); }
    header { position: sticky; top: 0; z-index: 2; background: var(--soft); border-bottom: 1px solid var(--line); padding: 8px 24px; }
    header h1 { font-size: 18px; margin: 0 0 4px 0; }
    nav a { margin-right: 12px; color: var(--accent); text-decoration: none; }
    main { max-width: 1180px; padding: 0 24px 48px 24px; }
    section { margin-top: 28px; }
    h2 { font-size: 16px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
    .hint { color: var(--faint); }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
    dl.facts dt { color: var(--faint); }
    dl.facts dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
    ul.notes li { color: #9a6700; }
    ol.prompts { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
    .answer { color: var(--accent); }
    .corrupted { color: var(--faint); }
    .head { font-family: ui-monospace, Menlo, Consolas, monospace; padding: 0 3px; border-radius: 3px; background: var(--soft); }
    .head.truth { background: #fdebc8; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
    th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: right; }
    th:first-child, td:first-child { text-align: left; }
    table.sortable th { cursor: pointer; user-select: none; background: var(--soft); }
    th[aria-sort="ascending"]::after { content: " ▲"; }
    th[aria-sort="descending"]::after { content: " ▼"; }
    .chart svg, figure svg { max-width: 100%; height: auto; }
    .heatmaps { display: flex; flex-wrap: wrap; gap: 16px; }
    .heatmaps figure { margin: 0; }
    .heatmaps figcaption { font-weight: 600; }
    .heatmap rect.cell { cursor: pointer; }
    .tabs button { font: inherit; border: 1px solid var(--line); background: var(--bg); padding: 2px 10px; border-radius: 4px; cursor: pointer; }
    .tabs button.active { background: var(--accent); color: #ffffff; border-color: var(--accent); }
    figure.graph-figure { margin: 8px 0; }
    .graph-figure g.node.head-node { cursor: pointer; }
    .graph-figure g.node.selected polygon, .graph-figure g.node.selected path { stroke-width: 3; stroke: #000000; }
    aside.panel { position: fixed; right: 16px; top: 72px; width: 340px; max-height: 80vh; overflow: auto; z-index: 3;
      background: var(--bg); border: 1px solid var(--line); border-radius: 6px; box-shadow: 0 4px 16px rgba(0,0,0,0.15); padding: 12px 16px; }
    aside.panel h3 { margin: 0 0 6px 0; font-family: ui-monospace, Menlo, Consolas, monospace; }
    #panel-close { float: right; border: none; background: none; font-size: 20px; cursor: pointer; }
    aside.panel table { width: 100%; }
    .controls { margin-bottom: 8px; }
    .tokens { display: flex; flex-wrap: wrap; gap: 2px; margin: 8px 0; font-family: ui-monospace, Menlo, Consolas, monospace; }
    .tok { border: 1px solid var(--line); border-radius: 3px; padding: 1px 4px; cursor: default; white-space: pre; }
    .tok.active { background: var(--accent); color: #ffffff; }
    .scroll { overflow-x: auto; }
    #explorer-grid { font-size: 10px; }
    #explorer-grid td, #explorer-grid th { border: none; padding: 0; }
    #explorer-grid th { padding-right: 6px; font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: normal; text-align: right; }
    #explorer-grid th.truth { color: #b35c00; font-weight: 600; }
    #explorer-grid th.col { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; height: 60px; max-height: 60px; overflow: hidden; white-space: pre; }
    #explorer-grid td.cell { width: 16px; min-width: 16px; height: 11px; border: 1px solid #ffffff; }
    #explorer-grid tr.layer-start td, #explorer-grid tr.layer-start th { border-top: 2px solid var(--line); }
    figure.sink-figure { margin: 8px 0; }
    pre#selftest { white-space: pre-wrap; }
    """
}
