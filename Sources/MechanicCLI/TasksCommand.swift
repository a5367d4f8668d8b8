import ArgumentParser
import Foundation
import Mechanic

/// `mechanic tasks`: the built-in task datasets.
struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List, show or write the built-in task datasets.",
        discussion: """
        Examples:
          mechanic tasks list
          mechanic tasks show ioi
          mechanic tasks show greater-than --model artifacts/models/mechanic-mini --count 50
          mechanic tasks make docstring --model artifacts/models/mechanic-mini --count 5 > docstring.json
        """,
        subcommands: [List.self, Show.self, Make.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the built-in tasks.",
            discussion: "Examples:\n  mechanic tasks list\n  mechanic tasks list --json")
        @Flag(help: "Print JSON.") var json = false

        struct Entry: Codable {
            var name: String
            var summary: String
            var metric: TaskMetric
        }

        func run() throws {
            if json { return try printJSON(TaskRegistry.all.map { Entry(name: $0.name, summary: $0.summary, metric: $0.metric) }) }
            for task in TaskRegistry.all { print("\(task.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(task.summary)") }
        }
    }

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a task's prompts as JSON (positives, negatives, answers, corrupted prompts).",
            discussion: "Example: mechanic tasks make ioi --model artifacts/models/mechanic-mini --count 5")
        @Argument(help: "Task name.") var task: String
        @OptionGroup var model: ModelOptions
        @Option var count = 20
        @Option var seed: UInt64 = 0
        @Flag(name: .customLong("no-prepend-bos")) var noBOS = false

        func validate() throws {
            try OptionLimits.check(count, 1...OptionLimits.prompts, "--count")
            if !TaskRegistry.names.contains(task) {
                throw ValidationError("unknown task \"\(task)\"; tasks: \(TaskRegistry.names.joined(separator: ", ")).")
            }
        }

        func run() throws {
            let tokenizer = try loadTokenizer(folder: model.folder)
            try printJSON(try TaskRegistry.named(task).dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: !noBOS))
        }
    }
}
