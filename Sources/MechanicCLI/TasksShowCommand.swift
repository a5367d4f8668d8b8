import ArgumentParser
import Foundation
import Mechanic

extension TasksCommand {
    /// `mechanic tasks show`: a task's metric and example prompts, and with `--model`, how many
    /// positives the model gets right (the ones discovery keeps).
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a task: its metric, example positive/negative/corrupted prompts and answers.",
            discussion: """
            The tokenizer comes from --model (default: the embedded reference model). With a model \
            folder that has weights, it also reports how many positives the model answers correctly.

            Example: mechanic tasks show ioi --examples 3
            """)
        @Argument(help: "Task name.") var task: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Model folder (tokenizer, and weights for the accuracy line).", valueName: "folder"))
        var model = DiscoverCommand.defaultModel
        @Option(help: "Positives and negatives to generate.") var count = 20
        @Option(help: "Example prompts to print.") var examples = 2
        @Option(help: "Seed of the prompts.") var seed: UInt64 = 0
        @Flag(name: .customLong("no-prepend-bos"), help: "Do not prepend <|endoftext|>.") var noBOS = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var weights: WeightOptions

        struct Summary: Codable {
            var task: String
            var summary: String
            var metric: TaskMetric
            var positives: Int
            var negatives: Int
            var correct: Int?
            var examples: [TaskPrompt]
            var negativeExamples: [TaskPrompt]
        }

        func validate() throws {
            if !TaskRegistry.names.contains(task) {
                throw ValidationError("unknown task \"\(task)\"; tasks: \(TaskRegistry.names.joined(separator: ", ")).")
            }
            try OptionLimits.check(count, 1...OptionLimits.prompts, "--count")
            if examples < 0 { throw ValidationError("--examples must be at least 0.") }
        }

        func run() throws {
            let folder = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
            let tokenizer = try loadTokenizer(folder: folder)
            let definition = try TaskRegistry.named(task)
            let dataset = try definition.dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: !noBOS)
            var correct: Int?
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) {
                let loaded = try weights.load(folder: folder)
                correct = try dataset.keepingCorrect(model: loaded).positives.count
            }
            let summary = Summary(task: definition.name, summary: definition.summary, metric: definition.metric,
                                  positives: dataset.positives.count, negatives: dataset.negatives.count, correct: correct,
                                  examples: Array(dataset.positives.prefix(examples)),
                                  negativeExamples: Array(dataset.negatives.prefix(examples)))
            if json { return try printJSON(summary) }
            print(summary.summary.hasPrefix(summary.task) ? summary.summary : "\(summary.task): \(summary.summary)")
            print("metric: \(summary.metric.rawValue); \(summary.positives) positives, \(summary.negatives) negatives (seed \(seed))")
            if let correct {
                print("\(folder.lastPathComponent) gets \(correct) of \(summary.positives) positives right")
            }
            func show(_ label: String, _ prompt: TaskPrompt) {
                let answer = { (ids: [Int]) in ids.prefix(6).map { "\"\((try? tokenizer.decode([$0])) ?? "#\($0)")\"" }.joined(separator: " ") }
                print("\n\(label): \(prompt.text)")
                print("  answers: \(answer(prompt.answers))\(prompt.answers.count > 6 ? " …" : "")   wrong: \(answer(prompt.wrongAnswers))\(prompt.wrongAnswers.count > 6 ? " …" : "")")
                if let corrupted = prompt.corruptedText { print("  corrupted: \(corrupted)") }
            }
            for p in summary.examples { show("positive", p) }
            for p in summary.negativeExamples { show("negative", p) }
        }
    }
}
