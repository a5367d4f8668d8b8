import ArgumentParser
import Foundation
import Mechanic

/// `mechanic sinks`: attention-sink report of a model on a task's prompts or your own.
struct SinksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sinks",
        abstract: "Find attention sinks (first token, hidden later sinks) and massive activations; write a report folder.",
        discussion: """
        The report folder gets report.md, report.json (same numbers), first-token-mass.svg, \
        hidden-sinks.svg and attention-pattern views; it is replaced atomically. Statistics are \
        reduced on the fly, so long prompt sets need no more memory than one batch.

        Examples:
          mechanic sinks --model ~/models/gpt2 --task ioi --out reports/gpt2-ioi-sinks
          mechanic sinks --model ~/models/gpt2 --prompts-file prompts.txt --bos without --out sinks
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var weights: WeightOptions

    @Option(help: "Built-in task whose positive prompts to analyse (\(TaskRegistry.names.joined(separator: ", "))).")
    var task: String?

    @Option(help: "Number of task prompts.")
    var count = 64

    @Option(help: "Seed of the task prompts.")
    var seed: UInt64 = 0

    @Argument(help: "Prompts (instead of --task).")
    var prompts: [String] = []

    @Option(name: .customLong("prompts-file"), help: ArgumentHelp("Prompts, one per line (instead of --task).", valueName: "file"))
    var promptsFile: String?

    @Option(help: "BOS handling: with, without or both.")
    var bos: BOSMode = .both

    @Option(name: .customLong("first-token-threshold"), help: "ε of the first-token sink rate.")
    var firstToken = 0.3

    @Option(name: .customLong("hidden-threshold"), help: "α above which a later position is a hidden sink.")
    var hidden = 0.1
    @Option(name: .customLong("min-observers"),
            help: "Queries that must see a later position for it to count as a hidden sink (1: the bare ACT rule).")
    var minObservers = 8
    @Option(name: .customLong("min-lift"),
            help: "How many times its score under uniform attention a later position needs to count as a hidden sink (0: no baseline).")
    var minLift = 3.0

    @Option(name: .customLong("batch-size"), help: "Prompts per forward pass (lower it for long prompts).")
    var batchSize = 8

    @Option(help: ArgumentHelp("Report folder.", valueName: "folder"))
    var out: String

    @Flag(help: "Print the report's JSON on standard output as well.")
    var json = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        let sources = [task != nil, !prompts.isEmpty, promptsFile != nil].filter { $0 }.count
        if sources != 1 { throw ValidationError("Give exactly one of --task, --prompts-file or prompts.") }
        if let task, !TaskRegistry.names.contains(task) {
            throw ValidationError("unknown task \"\(task)\"; tasks: \(TaskRegistry.names.joined(separator: ", ")).")
        }
        try OptionLimits.check(count, 1...OptionLimits.prompts, "--count")
        try OptionLimits.check(minObservers, 1...1_000_000, "--min-observers")
        guard minLift.isFinite, (0...1_000).contains(minLift) else { throw ValidationError("--min-lift must be a number from 0 to 1,000.") }
    }

    func run() throws {
        threads.apply()
        let (loaded, maybeTokenizer) = try model.load(weights)
        guard let tokenizer = maybeTokenizer else { throw CLIError("\(model.folder.path) has no tokenizer files") }
        var texts = prompts
        if let task {
            texts = try TaskRegistry.named(task).dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: false)
                .positives.map(\.text)
        } else if let promptsFile {
            guard let text = try? String(contentsOfFile: promptsFile, encoding: .utf8) else {
                throw CLIError("cannot read --prompts-file \(promptsFile) as UTF-8 text")
            }
            texts = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        }
        let recorded = try store.open().map { try RecordedRun.begin(store: $0, command: "sinks", seed: seed, model: model.folder) }
        let bar = ProgressBox(ProgressBar(total: 1, label: "sinks"))
        let options = SinkOptions(thresholds: SinkThresholds(firstToken: firstToken, hiddenSink: hidden, minimumObservers: minObservers,
                                                                     minimumLift: minLift), prependBOS: bos,
                                  batchSize: batchSize, progress: { done, total in bar.update(done, total) })
        let folder = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
        let work = {
            let analysis = try SinkAnalysis.run(model: loaded, tokenizer: tokenizer, prompts: texts, options: options)
            try SinkReportWriter.write(analysis, to: folder)
            if let recorded { try recorded.store.record(sinks: analysis, run: recorded.id) }
            return analysis
        }
        let analysis = try recorded.map { try $0.finishing(work) } ?? work()
        if json { print(SinkReportJSON.render(analysis)) }
        printError("sink report → \(folder.path)" + (recorded.map { "; recorded as run \($0.id) in \($0.store.path)" } ?? ""))
    }
}

extension BOSMode: ExpressibleByArgument {}

/// A progress bar the analysis can update from its callback.
final class ProgressBox: @unchecked Sendable {
    private var bar: ProgressBar
    private let lock = NSLock()

    init(_ bar: ProgressBar) {
        self.bar = bar
    }

    func update(_ done: Int, _ total: Int) {
        lock.lock()
        defer { lock.unlock() }
        if bar.total != max(1, total) { bar = ProgressBar(total: total, label: bar.label) }
        bar.update(done)
    }
}
