import Foundation
import XCTest
@testable import MechanicTasks
import MechanicCorpus
import MechanicTokenizer

/// Task datasets with GPT-2's tokenizer (skipped without ../shared) and with a corpus-built one.
final class TaskDatasetTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func gpt2() throws -> GPT2Tokenizer {
        let folder = repository.deletingLastPathComponent().appendingPathComponent("shared/gpt2-tokenizer")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("vocab.json").path) else {
            throw XCTSkip("\(folder.path) (../shared/gpt2-tokenizer) is absent; GPT-2 task datasets are not checked")
        }
        return try GPT2Tokenizer(folder: folder)
    }

    static let reference: GPT2Tokenizer = {
        let text = CorpusGenerator(seed: 3).text(minimumBytes: 300_000)
        let built = try! VocabularyBuilder.build(from: text, size: 1800, required: VocabularyBuilder.standardRequired)
        return try! GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
    }()

    func tokenizers() throws -> [(String, GPT2Tokenizer)] {
        var list = [("reference", Self.reference)]
        if let gpt2 = try? Self.gpt2() { list.append(("gpt2", gpt2)) }
        return list
    }

    func testIOIPromptsFollowTheRecipe() throws {
        for (label, tokenizer) in try tokenizers() {
            let data = try IOITask().dataset(tokenizer: tokenizer, count: 40, seed: 1, prependBOS: true)
            XCTAssertEqual(data.positives.count, 40)
            XCTAssertEqual(data.negatives.count, 40)
            for p in data.positives {
                let io = try tokenizer.decode(p.answers), s = try tokenizer.decode(p.wrongAnswers)
                // The subject appears twice, the indirect object once, and the answer is the indirect object.
                XCTAssertEqual(p.text.components(separatedBy: s).count - 1, 2, "\(label): \(p.text)")
                XCTAssertEqual(p.text.components(separatedBy: io).count - 1, 1, "\(label): \(p.text)")
                XCTAssertEqual(p.corruptedTokens?.count, p.tokens.count)
                XCTAssertEqual(p.tokens.first, tokenizer.bosID)
                XCTAssertEqual(CorpusSplit.of(prompt: p.text), .heldOut)
            }
            let again = try IOITask().dataset(tokenizer: tokenizer, count: 40, seed: 1, prependBOS: true)
            XCTAssertEqual(again, data)
        }
    }

    func testGreaterThanYearsTokenizeAsTheTaskNeeds() throws {
        for (label, tokenizer) in try tokenizers() {
            let data = try GreaterThanTask().dataset(tokenizer: tokenizer, count: 30, seed: 2, prependBOS: false)
            for p in data.positives {
                // The prompt ends in " XX" and the start year splits as " XX" + "YY".
                let start = try XCTUnwrap(p.text.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
                    .first { $0 >= 1000 }, p.text)
                XCTAssertEqual(p.answers.count, 99 - start % 100, label)
                XCTAssertEqual(p.answers.count + p.wrongAnswers.count, 100)
                XCTAssertEqual(try tokenizer.decode([p.answers[0]]), String(format: "%02d", start % 100 + 1))
                XCTAssertEqual(p.corruptedText?.contains(String(format: "%d01 ", start / 100)), true, p.corruptedText ?? "")
                XCTAssertEqual(p.corruptedTokens?.count, p.tokens.count)
            }
            XCTAssertEqual(data.metric, .probabilityDifference)
        }
        if let gpt2 = try? Self.gpt2() {
            XCTAssertEqual(gpt2.encode(" 1732").count, 2, "GPT-2 splits 1732 as 17 + 32")
        }
    }

    func testDocstringMatchesTheCorpusFormatAndCorruptsNames() throws {
        // The task renders prompts exactly as the training corpus does.
        let function = Lexicon.functions[0], parameters = Array(Lexicon.parameters[0..<4])
        XCTAssertEqual(DocstringTask.render(function: function, signature: parameters.map(\.name), docstring: parameters, lines: 2),
                       DocstringFamily().example(function: function, parameters: parameters, answerIndex: 2).sample.prompt)
        for (label, tokenizer) in try tokenizers() {
            let data = try DocstringTask().dataset(tokenizer: tokenizer, count: 20, seed: 3, prependBOS: true)
            for p in data.positives {
                let answer = try tokenizer.decode(p.answers).trimmingCharacters(in: .whitespaces)
                XCTAssertTrue(p.text.hasPrefix("def "), label)
                XCTAssertTrue(p.text.contains(", \(answer)"), "\(label): answer in the signature")
                XCTAssertFalse(p.corruptedText!.contains(", \(answer)"), "\(label): corruption removes the answer")
                XCTAssertEqual(p.corruptedTokens?.count, p.tokens.count)
            }
        }
    }

    func testInductionAnswerFollowsItsFirstOccurrence() throws {
        for (label, tokenizer) in try tokenizers() {
            let data = try InductionTask().dataset(tokenizer: tokenizer, count: 20, seed: 4, prependBOS: false)
            for p in data.positives {
                let words = p.text.split(separator: " ").dropFirst().map(String.init)
                let last = words.last!
                let answer = try tokenizer.decode(p.answers).trimmingCharacters(in: .whitespaces)
                XCTAssertEqual(words[words.firstIndex(of: last)! + 1], answer, "\(label): \(p.text)")
                XCTAssertEqual(p.corruptedTokens?.count, p.tokens.count)
            }
        }
    }

    func testIOIStoryPromptsHaveAlignedABCTwins() throws {
        for (label, tokenizer) in try tokenizers() {
            let data = try IOIStoryTask().dataset(tokenizer: tokenizer, count: 40, seed: 1, prependBOS: true)
            XCTAssertEqual(data.positives.count, 40)
            XCTAssertEqual(data.negatives.count, 40)
            for (p, n) in zip(data.positives, data.negatives) {
                // S is repeated, IO appears once, and the answer is IO; the ABC twin replaces S2 with a name
                // absent from the clean prompt, token for token.
                XCTAssertGreaterThanOrEqual(p.tokens.filter { $0 == p.wrongAnswers[0] }.count, 2, "\(label): \(p.text)")
                XCTAssertEqual(p.tokens.filter { $0 == p.answers[0] }.count, 1, "\(label): \(p.text)")
                let corrupted = try XCTUnwrap(p.corruptedTokens)
                XCTAssertEqual(corrupted.count, p.tokens.count)
                let changed = p.tokens.indices.filter { p.tokens[$0] != corrupted[$0] }
                XCTAssertFalse(changed.isEmpty)
                XCTAssertTrue(changed.allSatisfy { p.tokens[$0] == p.wrongAnswers[0] }, "\(label): only S mentions change")
                XCTAssertEqual(Set(changed.map { corrupted[$0] }).count, 1)
                XCTAssertFalse(p.tokens.contains(corrupted[changed[0]]))
                XCTAssertEqual(p.tokens.first, tokenizer.bosID)
                XCTAssertEqual(CorpusSplit.of(prompt: p.text), .heldOut)
                // Negatives are ABC: the answer and the wrong name each appear once.
                XCTAssertEqual(n.tokens.filter { $0 == n.answers[0] }.count, 1, "\(label): \(n.text)")
            }
            let again = try IOIStoryTask().dataset(tokenizer: tokenizer, count: 40, seed: 1, prependBOS: true)
            XCTAssertEqual(again, data)
            // With a distractor, a complete episode with other names comes first.
            let withDistractor = try IOIStoryTask(distractor: true).dataset(tokenizer: tokenizer, count: 10, seed: 1, prependBOS: true)
            for p in withDistractor.positives {
                let firstSentenceEnd = try XCTUnwrap(p.text.range(of: ". ")).upperBound
                XCTAssertFalse(p.text[..<firstSentenceEnd].isEmpty)
                XCTAssertGreaterThan(p.text.count, 40, p.text)
            }
        }
    }

    func testRandomInductionDrawsFromTheWholeVocabulary() throws {
        for (label, tokenizer) in try tokenizers() {
            let data = try RandomInductionTask().dataset(tokenizer: tokenizer, count: 20, seed: 4, prependBOS: true)
            for p in data.positives {
                // The token after the last one's most recent earlier occurrence (in the first copy) is the answer.
                let last = p.tokens.last!
                let earlier = try XCTUnwrap(p.tokens.dropLast().lastIndex(of: last), "\(label): \(p.tokens)")
                XCTAssertEqual(p.tokens[earlier + 1], p.answers[0], label)
                XCTAssertFalse(p.wrongAnswers.contains(p.answers[0]))
                XCTAssertEqual(p.corruptedTokens?.count, p.tokens.count)
                XCTAssertEqual(p.tokens.first, tokenizer.bosID)
                XCTAssertFalse(p.tokens.dropFirst().contains(tokenizer.eosID))
            }
            // Runs come from the whole vocabulary, not a word list.
            let drawn = Set(data.positives.flatMap { $0.tokens.dropFirst() })
            XCTAssertTrue(drawn.contains { id in !Lexicon.inductionWords.contains { tokenizer.singleTokenID(" " + $0) == id } })
        }
    }

    func testUserFileTasksAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tasks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("mine.jsonl")
        try """
        {"prompt": "When Mary and John went to the store, John gave a drink to", "answer": " Mary", "wrong": [" John"], "corrupted": "When Mary and John went to the store, Tom gave a drink to"}

        {"prompt": "When Mary and John went to the store, Tom gave a drink to", "answer": " Mary", "positive": false}
        """.write(to: file, atomically: true, encoding: .utf8)
        let tokenizer = Self.reference
        let data = try FileTask(url: file).dataset(tokenizer: tokenizer, prependBOS: true)
        XCTAssertEqual(data.task, "mine")
        XCTAssertEqual(data.positives.count, 1)
        XCTAssertEqual(data.negatives.count, 1)
        XCTAssertEqual(data.positives[0].answers, [tokenizer.singleTokenID(" Mary")!])

        // Windows line endings: still one prompt a line, with the right line numbers in errors.
        let crlf = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "\n", with: "\r\n")
        try crlf.write(to: file, atomically: true, encoding: .utf8)
        let fromCRLF = try FileTask(url: file).dataset(tokenizer: tokenizer, prependBOS: true)
        XCTAssertEqual(fromCRLF.positives.count, 1)
        XCTAssertEqual(fromCRLF.negatives.count, 1)
        try (crlf + "\r\n{ broken\r\n").write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FileTask(url: file).dataset(tokenizer: tokenizer, prependBOS: true)) {
            guard case TaskError.invalidPrompt(line: 4, _) = $0 else { return XCTFail("\($0)") }
        }

        try #"{"prompt": "x", "answer": " not a single token at all"}"#.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FileTask(url: file).dataset(tokenizer: tokenizer, prependBOS: true)) {
            guard case TaskError.invalidPrompt(line: 1, _) = $0 else { return XCTFail("\($0)") }
        }
        try "{ broken".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FileTask(url: file).dataset(tokenizer: tokenizer, prependBOS: true))
        XCTAssertThrowsError(try FileTask(url: dir.appendingPathComponent("none.jsonl")).dataset(tokenizer: tokenizer, prependBOS: true))
        XCTAssertThrowsError(try TaskRegistry.named("frobnicate")) {
            XCTAssertEqual($0 as? TaskError, .unknownTask("frobnicate", known: ["ioi", "greater-than", "docstring", "induction", "ioi-story", "induction-random"]))
        }
    }

    func testSAEL1IsTheReferenceProtocolsPerTaskValue() throws {
        // O'Neill & Bui's reference code trains docstring's SAE with λ 0.05 and the others with 0.02.
        XCTAssertEqual(DocstringTask().saeL1, 0.05)
        for name in ["ioi", "greater-than", "induction"] { XCTAssertEqual(try TaskRegistry.named(name).saeL1, 0.02, name) }
    }
}
