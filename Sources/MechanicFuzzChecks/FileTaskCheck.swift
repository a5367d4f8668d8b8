import Foundation
import MechanicTasks
import MechanicTokenizer

/// The tokenizer prompts are checked against: the embedded reference model's (GPT-2 style BPE,
/// 2,048 tokens), or the folder in `MECHANIC_FUZZ_TOKENIZER`.
let fileTaskTokenizer: any Tokenizer = {
    let folder = ProcessInfo.processInfo.environment["MECHANIC_FUZZ_TOKENIZER"].map { URL(fileURLWithPath: $0) }
        ?? repositoryRoot.appendingPathComponent("artifacts/models/mechanic-mini")
    do {
        return try loadTokenizer(folder: folder)
    } catch {
        fatalError("fuzz harness: cannot load the tokenizer in \(folder.path): \(error)")
    }
}()

/// Fuzzes task prompt files (`mechanic discover --task prompts.jsonl`): a JSON array or JSON
/// Lines of `{"prompt", "answer", "wrong", "positive", "corrupted"}` objects, read by
/// `FileTask.dataset(tokenizer:prependBOS:)` (the CLI passes any non-registry task name to
/// `FileTask(url:)`).
///
/// The input is the whole file, written to a scratch file because `FileTask` reads a URL. A
/// dataset that is accepted is then scored with both metrics on flat logits, as evaluation does
/// at every prompt: every token and answer id it holds must index the vocabulary.
///
/// Traps on a finding; returns on any correct answer (a thrown error included).
public func checkFileTask(_ bytes: [UInt8]) {
    let url = Scratch.write(bytes, to: "prompts.jsonl")
    let prependBOS = bytes.count % 2 == 0
    guard let dataset = try? FileTask(url: url).dataset(tokenizer: fileTaskTokenizer, prependBOS: prependBOS) else { return }
    let vocabulary = fileTaskTokenizer.vocabularySize
    let logits = [Float](repeating: 0, count: vocabulary)
    logits.withUnsafeBufferPointer { logits in
        for prompt in dataset.positives + dataset.negatives {
            precondition(!prompt.tokens.isEmpty, "an accepted prompt has no tokens")
            for id in prompt.tokens + prompt.answers + prompt.wrongAnswers + (prompt.corruptedTokens ?? []) {
                precondition((0..<vocabulary).contains(id), "id \(id) outside the vocabulary of \(vocabulary)")
            }
            for metric in TaskMetric.allCases { _ = metric.isCorrect(logits: logits, prompt: prompt) }
        }
    }
}

