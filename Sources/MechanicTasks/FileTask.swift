import Foundation
import MechanicTokenizer

/// A task brought by the user: a JSON array or JSON Lines file of prompts.
///
/// Each entry: `{"prompt": "…", "answer": " Mary" or [" Mary", …], "wrong": [" John"],
/// "positive": true, "corrupted": "…"}`. `positive` defaults to true; `corrupted` is optional
/// (needed for resample patching). Answers and wrong answers must be single tokens.
public struct FileTask: CircuitTask {
    public let url: URL
    public var name: String { url.deletingPathExtension().lastPathComponent }
    public var summary: String { "prompts from \(url.path)" }
    public let metric: TaskMetric

    public init(url: URL, metric: TaskMetric = .logitDifference) {
        self.url = url
        self.metric = metric
    }

    struct Entry: Decodable {
        var prompt: String
        var answer: OneOrMany
        var wrong: OneOrMany?
        var positive: Bool?
        var corrupted: String?
    }

    enum OneOrMany: Decodable {
        case one(String), many([String])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .one(s) } else { self = .many(try c.decode([String].self)) }
        }
        var values: [String] {
            switch self {
            case .one(let s): return [s]
            case .many(let list): return list
            }
        }
    }

    /// Reads every entry; `count` and `seed` are ignored (the file is the dataset).
    public func dataset(tokenizer: any Tokenizer, count: Int = 0, seed: UInt64 = 0, prependBOS: Bool) throws -> TaskDataset {
        guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
            throw TaskError.unreadable(path: url.path, reason: "cannot read the file as UTF-8 text")
        }
        let entries: [(line: Int, entry: Entry)]
        let decoder = JSONDecoder()
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("[") {
            do {
                entries = try decoder.decode([Entry].self, from: data).enumerated().map { ($0.offset + 1, $0.element) }
            } catch {
                throw TaskError.unreadable(path: url.path, reason: "not a JSON array of prompts (\(error.localizedDescription))")
            }
        } else {
            entries = try text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated().compactMap { i, line in
                guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
                do {
                    return (i + 1, try decoder.decode(Entry.self, from: Data(line.utf8)))
                } catch {
                    throw TaskError.invalidPrompt(line: i + 1, reason: "not a prompt object: {\"prompt\": …, \"answer\": …}")
                }
            }
        }
        var positives: [TaskPrompt] = [], negatives: [TaskPrompt] = []
        for (line, e) in entries {
            func ids(_ texts: [String]) throws -> [Int] {
                try texts.map { t in
                    guard let id = tokenizer.singleTokenID(t) else {
                        throw TaskError.invalidPrompt(line: line, reason: "\"\(t)\" is not a single token for this tokenizer")
                    }
                    return id
                }
            }
            let tokens = tokenizer.encode(e.prompt, prependBOS: prependBOS)
            guard !tokens.isEmpty else { throw TaskError.invalidPrompt(line: line, reason: "the prompt is empty") }
            let corrupted = e.corrupted.map { tokenizer.encode($0, prependBOS: prependBOS) }
            if let corrupted, corrupted.count != tokens.count {
                throw TaskError.invalidPrompt(line: line, reason: "the corrupted prompt has \(corrupted.count) tokens, the prompt \(tokens.count)")
            }
            let prompt = TaskPrompt(text: e.prompt, tokens: tokens, answers: try ids(e.answer.values),
                                    wrongAnswers: try ids(e.wrong?.values ?? []), corruptedText: e.corrupted, corruptedTokens: corrupted)
            if e.positive ?? true { positives.append(prompt) } else { negatives.append(prompt) }
        }
        return TaskDataset(task: name, metric: metric, positives: positives, negatives: negatives)
    }
}
