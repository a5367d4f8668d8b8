import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Shared pieces of the task files: single-token lookups and the sampling loop.
struct TaskBuilder {
    let task: String
    let tokenizer: any Tokenizer
    let prependBOS: Bool
    /// Keep only prompts of the held-out corpus split, so reference models are scored on text they never saw.
    let heldOutOnly: Bool

    /// The id of `text` when it is one token.
    func single(_ text: String, role: String) throws -> Int {
        guard let id = tokenizer.singleTokenID(text) else { throw TaskError.notSingleToken(text, role: role) }
        return id
    }

    func tokens(_ text: String) -> [Int] {
        tokenizer.encode(text, prependBOS: prependBOS)
    }

    /// Whether a prompt may be used.
    func admits(_ prompt: String) -> Bool {
        !heldOutOnly || CorpusSplit.of(prompt: prompt) == .heldOut
    }

    /// Draws candidates until `count` are made, giving up after `count · 400` draws.
    ///
    /// - Parameter make: returns a prompt, or `nil` to reject the draw (wrong split, a name that is
    ///   not one token…); throwing stops at once.
    func sample(_ count: Int, seed: UInt64, _ make: (inout SeededRandom) throws -> TaskPrompt?) throws -> [TaskPrompt] {
        var rng = SeededRandom(seed: seed)
        var made: [TaskPrompt] = []
        var draws = 0
        while made.count < count {
            draws += 1
            if draws > count * 400 {
                throw TaskError.tooFewPrompts(task: task, wanted: count, made: made.count,
                                              reason: "too few draws fit the tokenizer and split")
            }
            if let prompt = try make(&rng) { made.append(prompt) }
        }
        return made
    }
}

/// Every built-in task, by command-line name.
public enum TaskRegistry {
    /// The v1 tasks first (the shipped reference models' cards score these), then corpus v2's.
    public static let all: [any CircuitTask] = [IOITask(), GreaterThanTask(), DocstringTask(), InductionTask(),
                                                IOIStoryTask(), RandomInductionTask()]

    public static var names: [String] { all.map(\.name) }

    /// A built-in task by name.
    public static func named(_ name: String) throws -> any CircuitTask {
        guard let task = all.first(where: { $0.name == name }) else { throw TaskError.unknownTask(name, known: names) }
        return task
    }
}
