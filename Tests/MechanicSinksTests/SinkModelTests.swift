import Foundation
import XCTest
import MechanicModel
import MechanicTensor
import MechanicTokenizer
@testable import MechanicSinks

/// The analysis run on models: the hand-built one with known sinks, and a random one checked
/// against full captures reduced naively.
final class SinkModelTests: XCTestCase {
    func testHandBuiltModelNamesExactlyItsSinkHeadsAndPositions() throws {
        let model = try SinkModel.make()
        // The prompts are 4–8 tokens, so the sinks are seen by 3–7 queries: the bare ACT rule (1 observer, no uniform
        // baseline) names them.
        let analysis = try SinkAnalysis.run(model: model, prompts: SinkModel.prompts, bosID: SinkModel.bos, padID: 0,
                                            options: SinkOptions(thresholds: SinkThresholds(minimumObservers: 1, minimumLift: 0), batchSize: 2),
                                            tokenText: SinkModel.text)
        XCTAssertEqual(analysis.variants.map(\.bosPrepended), [true, false])
        // With the default of 8 observing queries, none of these short prompts' late keys counts.
        let strict = try SinkAnalysis.run(model: model, prompts: SinkModel.prompts, bosID: SinkModel.bos, padID: 0,
                                          options: SinkOptions(batchSize: 2), tokenText: SinkModel.text)
        XCTAssertEqual(strict.variants[0].hiddenSinkTotal, 0)
        XCTAssertEqual(strict.variants[0].firstTokenSinkRate, [[1, 0], [0, 1]], "first-token sinks do not depend on it")
        let s = analysis.variants[0]
        XCTAssertEqual(s.promptCount, 3)
        XCTAssertEqual(s.tokenCount, 8 + 5 + 4)
        XCTAssertEqual(s.longestPrompt, 8)
        // BOS heads: L0H0 and L1H1; X heads: L0H1 and L1H0.
        XCTAssertEqual(s.firstTokenSinkHeads(), [HeadIndex(layer: 0, head: 0), HeadIndex(layer: 1, head: 1)])
        XCTAssertEqual(s.hiddenSinkHeads, [HeadIndex(layer: 0, head: 1), HeadIndex(layer: 1, head: 0)])
        // One hidden sink per prompt each: habitual at a rate of 1, not above it.
        XCTAssertEqual(s.hiddenSinkHeads(minimumRate: 1), s.hiddenSinkHeads)
        XCTAssertEqual(s.hiddenSinkHeads(minimumRate: 1.01), [])
        XCTAssertEqual(s.firstTokenSinkRate, [[1, 0], [0, 1]])
        XCTAssertEqual(s.firstTokenSinkRateOverall, 0.5)
        XCTAssertEqual(s.firstTokenMass[0][0], 1, accuracy: 1e-5)
        // X heads: queries before X (BOS only, plus position 1 in the first prompt) attend to BOS.
        XCTAssertEqual(s.firstTokenMass[0][1], (2.0 / 8 + 1.0 / 5 + 1.0 / 4) / 3, accuracy: 1e-5)
        XCTAssertEqual(s.hiddenSinkCounts, [[0, 3], [3, 0]])
        XCTAssertEqual(s.hiddenSinkTotal, 6)
        let sinks = s.hiddenSinks.map { "\($0.prompt) L\($0.layer)H\($0.head) @\($0.position) \($0.token)" }.sorted()
        XCTAssertEqual(sinks, ["0 L0H1 @2  X", "0 L1H0 @2  X", "1 L0H1 @1  X", "1 L1H0 @1  X", "2 L0H1 @1  X", "2 L1H0 @1  X"])
        for sink in s.hiddenSinks { XCTAssertEqual(sink.score, 1, accuracy: 1e-5) }
        XCTAssertEqual(s.hiddenSinkTokens, [TokenSinkCount(tokenID: 1, token: " X", sinkEvents: 6, occurrences: 3, rate: 0.5)])
        XCTAssertEqual(s.hiddenSinksByPosition, [0, 4, 2, 0, 0, 0, 0, 0])
        // The massive value of token 7 (position 6 after BOS), in every layer, exactly.
        XCTAssertEqual(s.massiveActivations.map { "\($0.prompt) L\($0.layer) @\($0.position) d\($0.dimension) \($0.token) \($0.value)" },
                       ["0 L0 @6 d7 t7 5000.0", "0 L1 @6 d7 t7 5000.0"])
        XCTAssertEqual(s.massiveActivations.map(\.medianMagnitude), [1, 1])
        XCTAssertEqual(s.residualNorms[0][0], 10, accuracy: 1e-4)
        // Examples: the strongest first-token head and the strongest hidden-sink head, both BOS settings.
        XCTAssertEqual(analysis.examples.map { "L\($0.layer)H\($0.head) \($0.bosPrepended)" },
                       ["L0H0 true", "L0H0 false", "L0H1 true", "L0H1 false"])
        XCTAssertEqual(analysis.examples[0].tokens, ["<bos>", "t2", " X", "t3", "t4", "t5", "t7", "t6"])
        XCTAssertEqual(analysis.examples[2].weights[5][2], 1, accuracy: 1e-5)
        XCTAssertEqual(analysis.examples[2].weights[1][0], 1, accuracy: 1e-5)
        XCTAssertEqual(analysis.examples[2].weights[1][5], 0)
        // Without BOS the X heads still sink on X, now at positions 1, 0 (not hidden) and 0.
        let without = analysis.variants[1]
        XCTAssertEqual(without.hiddenSinks.filter { $0.layer == 0 && $0.head == 1 }.map(\.prompt), [0])
    }

    func testStatisticsMatchFullCapturesReducedNaively() throws {
        let model = try randomModel()
        let rows = randomRows([7, 3, 9, 5, 9])
        let batches = [TokenBatch(rows: Array(rows[0..<2])), TokenBatch(rows: Array(rows[2...]))]
        let s = try SinkStatistics.analyse(model: model, batches: batches, bosPrepended: false,
                                           options: SinkOptions(thresholds: SinkThresholds(hiddenSink: 0.2, minimumObservers: 2, minimumLift: 1.5)))
        let (layers, heads) = (model.config.layers, model.config.heads)
        var mass = [[Double]](repeating: [Double](repeating: 0, count: heads), count: layers)
        var entropy = mass
        var column = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: 9), count: heads), count: layers)
        var norms = [[Double]](repeating: [Double](repeating: 0, count: 9), count: layers)
        var hidden = 0
        let reach = (0..<9).map { p in Double(rows.filter { $0.count > p }.count) }
        // Key j's score under uniform causal attention over n tokens.
        func uniform(_ j: Int, _ n: Int) -> Double { (j..<n).reduce(0.0) { $0 + 1 / Double($1 + 1) } / Double(n - j) }
        for batch in batches {
            let names = (0..<layers).flatMap { [HookName.pattern($0), .residPost($0)] }
            let cache = try model.run(batch, logits: .none, capture: CaptureSpec(names: names)).cache
            for l in 0..<layers {
                let pattern = cache[.pattern(l)]!, residual = cache[.residPost(l)]!
                for r in 0..<batch.batch {
                    let n = batch.lengths[r]
                    for h in 0..<heads {
                        for j in 0..<n {
                            let a = (j..<n).reduce(0.0) { $0 + Double(pattern[r, h, $1, j]) } / Double(n - j)
                            column[l][h][j] += a / reach[j]
                            if j == 0 { mass[l][h] += a / 5 }
                            if j > 0 && n - j >= 2 && a > 0.2 && a >= 1.5 * uniform(j, n) { hidden += 1 }
                        }
                        let e = (0..<n).reduce(0.0) { sum, i in
                            sum - (0...i).reduce(0.0) { $0 + Double(pattern[r, h, i, $1]) * log(Double(pattern[r, h, i, $1])) }
                        }
                        entropy[l][h] += e / Double(n) / 5
                    }
                    for p in 0..<n {
                        let d = model.config.dModel
                        norms[l][p] += (0..<d).reduce(0.0) { $0 + pow(Double(residual[r, p, $1]), 2) }.squareRoot() / reach[p]
                    }
                }
            }
        }
        XCTAssertEqual(s.promptsPerPosition, reach.map { Int($0) })
        for l in 0..<layers {
            for h in 0..<heads {
                XCTAssertEqual(s.firstTokenMass[l][h], mass[l][h], accuracy: 1e-5)
                XCTAssertEqual(s.entropy[l][h], entropy[l][h], accuracy: 1e-4)
                for j in 0..<9 { XCTAssertEqual(s.columnScores[l][h][j], column[l][h][j], accuracy: 1e-5) }
            }
            for p in 0..<9 { XCTAssertEqual(s.residualNorms[l][p], norms[l][p], accuracy: 1e-3 * max(1, norms[l][p])) }
        }
        XCTAssertEqual(s.hiddenSinkTotal, hidden)
        XCTAssertGreaterThan(hidden, 0)
    }

    func testBatchingDoesNotChangeTheStatistics() throws {
        let model = try randomModel()
        let rows = randomRows([4, 8, 2, 6, 8, 3, 5])
        let one = try SinkStatistics.analyse(model: model, rows: rows, padID: 0, bosPrepended: false, options: SinkOptions(batchSize: 1))
        let three = try SinkStatistics.analyse(model: model, rows: rows, padID: 0, bosPrepended: false, options: SinkOptions(batchSize: 3))
        XCTAssertEqual(one.hiddenSinks.map(\.prompt), three.hiddenSinks.map(\.prompt))
        XCTAssertEqual(one.hiddenSinkCounts, three.hiddenSinkCounts)
        for (a, b) in zip(one.columnScores.joined().joined(), three.columnScores.joined().joined()) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        for (a, b) in zip(one.residualNorms.joined(), three.residualNorms.joined()) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testTextsWithTokenizerAndProgress() throws {
        let folder = TestPaths.model("tiny-f32")
        let model = try CheckpointLoader.load(folder: folder)
        let tokenizer = try GPT2Tokenizer(folder: folder)
        let calls = ProgressLog()
        let prompts = ["The cat sat on the mat.", "Hello, world", "a b c d e f"]
        let analysis = try SinkAnalysis.run(model: model, tokenizer: tokenizer, prompts: prompts,
                                            options: SinkOptions(batchSize: 2, progress: { calls.append($0, $1) }))
        XCTAssertEqual(calls.entries.map(\.total), Array(repeating: 6, count: 4))
        XCTAssertEqual(calls.entries.map(\.done), [2, 3, 5, 6])
        XCTAssertEqual(analysis.variants.map(\.promptCount), [3, 3])
        XCTAssertEqual(analysis.variants[0].tokenCount, analysis.variants[1].tokenCount + 3)
        XCTAssertEqual(analysis.model, SinkModelSummary(model.config))
        let withBOS = analysis.examples.first { $0.bosPrepended }!
        XCTAssertEqual(withBOS.tokens, ["<|endoftext|>"] + (try tokenizer.tokenStrings(tokenizer.encode(prompts[0]))))
        for example in analysis.examples {
            for row in example.weights { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5) }
        }
    }
}

/// Progress calls recorded from a `@Sendable` callback.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var entries: [(done: Int, total: Int)] = []

    func append(_ done: Int, _ total: Int) {
        lock.lock()
        entries.append((done, total))
        lock.unlock()
    }
}
