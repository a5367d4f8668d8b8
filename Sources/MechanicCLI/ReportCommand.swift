import ArgumentParser
import Foundation
import Mechanic

/// `mechanic report`: one self-contained, interactive HTML page for a stored run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an interactive HTML report of a stored run: tables, ROC curves, heat maps, circuit graph, attention.",
        discussion: """
        One HTML file with everything inline (style, script, data, SVG figures): it opens offline \
        in any browser and can be mailed or attached to an issue. For a discovery run it shows the \
        task and its first prompts; each method's ROC AUC, precision, recall, faithfulness and \
        runtime in a table you sort by clicking a column; ROC curves; a layer × head heat map of \
        each method's scores with the ground-truth heads outlined; each method's circuit drawn by \
        Graphviz, where clicking a head opens its scores, rank, role and strongest attention; and \
        an attention explorer: the run's first --prompts prompts, run again through the run's \
        model, where hovering a token shows, for every head, where that token attends (from) or \
        what attends to it (to). Runs of discover --level edges add the faithfulness curves with \
        CPR and CMD, and score heads by the total |score| of their edges for the tables, ROC \
        curves and heat maps. A sink analysis recorded with the run (mechanic sinks) is shown as heat maps \
        and a per-head table; for other runs one is computed on the run's prompts (--no-sinks \
        skips it).

        The model is the folder the run recorded. If it has moved or its weights changed since \
        (their checksum differs), the report leaves out the parts that need it and says so.

        The same run gives the same file, byte for byte. Open report.html#selftest to have the \
        page exercise itself and print what it found at its bottom.

        Examples:
          mechanic report 1                                   # → run-1-report.html
          mechanic report 3 --out ioi.html --prompts 5
          mechanic discover --count 60 --report ioi.html      # discover, then its report
          chromium --headless --screenshot=report.png --window-size=1280,2400 ioi.html
        """
    )

    @Argument(help: ArgumentHelp("Run id (mechanic db runs lists them).", valueName: "run")) var id: Int64
    @Option(help: ArgumentHelp("Output file (default: run-<id>-report.html).", valueName: "file")) var out: String?
    @Option(help: "Prompts in the attention explorer (0: no explorer).") var prompts = 3
    @Option(name: .customLong("max-tokens"), help: "Tokens of each explorer prompt kept (longer prompts are cut).")
    var maxTokens = 32
    @Flag(name: .customLong("no-sinks"), help: "Do not compute a sink analysis for runs that have none stored.") var noSinks = false
    @Option(help: ArgumentHelp("Results database (default: $MECHANIC_DB, else mechanic.sqlite).", valueName: "file")) var db: String?
    @OptionGroup var weights: WeightOptions
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try OptionLimits.check(prompts, 0...ReportBuilder.maxPrompts, "--prompts", because: "each prompt adds every head's pattern to the page")
        try OptionLimits.check(maxTokens, 2...256, "--max-tokens", because: "the explorer draws a cell per token and head")
        if let out, out.isEmpty || out == "-" { throw ValidationError("--out needs a file name (the report is not written to standard output).") }
    }

    func run() throws {
        threads.apply()
        let destination = out ?? "run-\(id)-report.html"
        try ReportBuilder.checkWritable(destination)
        let store = try ResultStore(path: StoreOptions.resolve(db), readOnly: true)
        var builder = ReportBuilder(store: store, run: id, weights: weights)
        builder.explorerPrompts = prompts
        builder.maxTokens = maxTokens
        builder.computeSinks = !noSinks
        let html = try builder.html()
        try OutputFile.write(Data(html.utf8), to: destination)
        printError("wrote \(destination) (\(ByteCountFormatter.string(fromByteCount: Int64(html.utf8.count), countStyle: .file)))")
    }
}
