import XCTest
import MechanicTensor
import MechanicTokenizer
@testable import MechanicSinks

/// The reductions on hand-built patterns and residual streams, checked against values worked out by hand.
final class SinkAccumulatorTests: XCTestCase {
    /// An accumulator with the bare ACT rule (any number of observing queries, no uniform
    /// baseline), which the hand-worked values below assume.
    func accumulator(layers: Int = 1, heads: Int = 1, recordLimit: Int = 200, minimumObservers: Int = 1,
                     minimumLift: Double = 0) -> SinkAccumulator {
        SinkAccumulator(layers: layers, heads: heads, thresholds: SinkThresholds(minimumObservers: minimumObservers, minimumLift: minimumLift),
                        bosPrepended: true, recordLimit: recordLimit)
    }

    /// Uniform attention over a short prompt gives the early keys α above ACT's 0.1; measured
    /// against the uniform baseline (default: 3×) none of them is a sink, while a planted key
    /// that every query gives half its attention still is.
    func testHiddenSinksMustStandOutFromUniformAttention() {
        let n = 16
        XCTAssertEqual(SinkAccumulator.uniformScores(length: 3), [(1 + 0.5 + 1.0 / 3) / 3, (0.5 + 1.0 / 3) / 2, 1.0 / 3])
        let uniform = (0..<n).map { i in (0..<n).map { j -> Float in j <= i ? 1 / Float(i + 1) : 0 } }
        var planted = uniform
        for i in 3..<n { planted[i] = (0..<n).map { j -> Float in j == 3 ? 0.5 : (j <= i ? 0.5 / Float(i) : 0) } }
        let batch = PromptBatch(tokens: TokenBatch(rows: [Array(100..<(100 + n))]), promptIndices: [0])
        func sinks(_ rows: [[Float]], lift: Double) -> [Int] {
            var acc = accumulator(minimumObservers: 8, minimumLift: lift)
            acc.addPrompts(batch)
            acc.addPatterns(patternTensor([[rows]], positions: n), layer: 0, batch: batch)
            return acc.finish { "t\($0)" }.hiddenSinks.map(\.position).sorted()
        }
        XCTAssertEqual(sinks(uniform, lift: 0), [1, 2, 3, 4], "keys 1–4 of uniform attention pass the bare 0.1 (u₄ ≈ 0.108)")
        XCTAssertEqual(sinks(uniform, lift: 3), [])
        XCTAssertEqual(sinks(planted, lift: 3), [3])
        XCTAssertEqual(SinkThresholds().minimumLift, 3)
        XCTAssertThrowsError(try SinkThresholds(minimumLift: .nan).validate())
    }

    /// A planted sink that many queries see is found; a late key seen only by itself and one more
    /// query, with the same column score, is not (default: at least 8 observing queries).
    func testHiddenSinksNeedEnoughObservingQueries() {
        let n = 12
        // Every query from 2 on puts 0.5 on key 2 (seen by 10 queries); the last query also puts 0.45 on
        // key 10 (seen by 2 queries: α₁₀ = 0.45 / 2 > 0.1) and 0.05 on key 11 (below the threshold).
        var rows = [[Float]](repeating: [Float](repeating: 0, count: n), count: n)
        for i in 0..<n {
            if i < 2 { rows[i][0] = 1; continue }
            rows[i][0] = 0.5
            rows[i][2] = 0.5
        }
        rows[n - 1] = [Float](repeating: 0, count: n)
        rows[n - 1][2] = 0.5
        rows[n - 1][10] = 0.45
        rows[n - 1][11] = 0.05
        let batch = PromptBatch(tokens: TokenBatch(rows: [Array(100..<(100 + n))]), promptIndices: [0])
        var strict = accumulator(minimumObservers: 8)
        strict.addPrompts(batch)
        strict.addPatterns(patternTensor([[rows]], positions: n), layer: 0, batch: batch)
        let found = strict.finish { "t\($0)" }
        XCTAssertEqual(found.hiddenSinks.map(\.position), [2])
        XCTAssertEqual(found.hiddenSinkTokens.map(\.token), ["t102"])
        var bare = accumulator(minimumObservers: 1)
        bare.addPrompts(batch)
        bare.addPatterns(patternTensor([[rows]], positions: n), layer: 0, batch: batch)
        XCTAssertEqual(Set(bare.finish { "t\($0)" }.hiddenSinks.map(\.position)), [2, 10], "the bare rule also counts the late key")
        XCTAssertEqual(SinkThresholds().minimumObservers, 8)
        XCTAssertThrowsError(try SinkThresholds(minimumObservers: 0).validate())
    }

    func testColumnScoresAndEntropyByHand() {
        // α₀ = (1 + .5 + .2)/3, α₁ = (.5 + .3)/2, α₂ = .5/1.
        let batch = PromptBatch(tokens: TokenBatch(rows: [[5, 6, 7]]), promptIndices: [0])
        var acc = accumulator()
        acc.addPrompts(batch)
        acc.addPatterns(patternTensor([[[[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]]]], positions: 3), layer: 0, batch: batch)
        let s = acc.finish { "t\($0)" }
        XCTAssertEqual(s.columnScores[0][0][0], 1.7 / 3, accuracy: 1e-6)
        XCTAssertEqual(s.columnScores[0][0][1], 0.4, accuracy: 1e-6)
        XCTAssertEqual(s.columnScores[0][0][2], 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.firstTokenMass[0][0], 1.7 / 3, accuracy: 1e-6)
        XCTAssertEqual(s.firstTokenSinkRate[0][0], 1)
        XCTAssertEqual(s.firstTokenSinkRateOverall, 1)
        let rowEntropy = [0.0, log(2.0), -(0.2 * log(0.2) + 0.3 * log(0.3) + 0.5 * log(0.5))]
        XCTAssertEqual(s.entropy[0][0], rowEntropy.reduce(0, +) / 3, accuracy: 1e-6)
        // Positions 1 and 2 are above 0.1: two hidden sinks, tokens 6 and 7.
        XCTAssertEqual(s.hiddenSinkTotal, 2)
        XCTAssertEqual(s.hiddenSinks.map(\.position), [2, 1])
        XCTAssertEqual(s.hiddenSinks.map(\.token), ["t7", "t6"])
        XCTAssertEqual(s.hiddenSinksByPosition, [0, 1, 1])
        XCTAssertEqual(s.promptsPerPosition, [1, 1, 1])
    }

    func testPaddedQueriesAndKeysAreIgnored() {
        // Row 1 has 2 real tokens; its padded query row and key column hold garbage.
        let batch = PromptBatch(tokens: TokenBatch(rows: [[1, 2, 3], [4, 5]]), promptIndices: [0, 1])
        let rows: [[[[Float]]]] = [
            [[[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]]],
            [[[1, 0, 9], [0.25, 0.75, 9], [9, 9, 9]]],
        ]
        var acc = accumulator()
        acc.addPrompts(batch)
        acc.addPatterns(patternTensor(rows, positions: 3, fill: 9), layer: 0, batch: batch)
        let s = acc.finish { "t\($0)" }
        // Prompt 1: α₀ = (1 + .25)/2, α₁ = .75. Means over the prompts that reach each position.
        XCTAssertEqual(s.firstTokenMass[0][0], (1.7 / 3 + 0.625) / 2, accuracy: 1e-6)
        XCTAssertEqual(s.columnScores[0][0][1], (0.4 + 0.75) / 2, accuracy: 1e-6)
        XCTAssertEqual(s.columnScores[0][0][2], 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.promptsPerPosition, [2, 2, 1])
        XCTAssertEqual(s.tokenCount, 5)
        let prompt1Entropy = (0 - (0.25 * log(0.25) + 0.75 * log(0.75))) / 2
        let prompt0Entropy = (log(2.0) - (0.2 * log(0.2) + 0.3 * log(0.3) + 0.5 * log(0.5))) / 3
        XCTAssertEqual(s.entropy[0][0], (prompt0Entropy + prompt1Entropy) / 2, accuracy: 1e-6)
        XCTAssertFalse(s.hiddenSinks.contains { $0.prompt == 1 && $0.position == 2 })
    }

    func testPlantedHiddenSinkIsFoundAtItsPosition() {
        // Queries 0–2 attend to position 0; queries 3–5 put .4 on position 0 and .6 on position 3.
        let n = 6
        let block: [[Float]] = (0..<n).map { i in
            (0..<n).map { j in i < 3 ? (j == 0 ? 1 : 0) : (j == 0 ? 0.4 : j == 3 ? 0.6 : 0) }
        }
        let batch = PromptBatch(tokens: TokenBatch(rows: [[9, 8, 7, 42, 6, 5], [9, 8, 7, 6]]), promptIndices: [3, 4])
        let other: [[Float]] = (0..<n).map { i in (0..<n).map { j in i < 4 && j == 0 ? 1 : 0 } }
        var acc = accumulator(layers: 2, heads: 2)
        acc.addPrompts(batch)
        acc.addPatterns(patternTensor([[other, block], [other, other]], positions: n), layer: 1, batch: batch)
        acc.addPatterns(patternTensor([[other, other], [other, other]], positions: n), layer: 0, batch: batch)
        let s = acc.finish { $0 == 42 ? " the" : "t\($0)" }
        XCTAssertEqual(s.hiddenSinkTotal, 1)
        XCTAssertEqual(s.hiddenSinks, [HiddenSink(prompt: 3, layer: 1, head: 1, position: 3, tokenID: 42, token: " the", score: Double(Float(0.6)))])
        XCTAssertEqual(s.hiddenSinkCounts, [[0, 0], [0, 1]])
        XCTAssertEqual(s.hiddenSinkHeads, [HeadIndex(layer: 1, head: 1)])
        XCTAssertEqual(s.columnScores[1][1][0], (0.7 + 1) / 2, accuracy: 1e-6)   // prompt 3: (3 + 3 × .4)/6
        XCTAssertEqual(s.hiddenSinkTokens, [TokenSinkCount(tokenID: 42, token: " the", sinkEvents: 1, occurrences: 1, rate: 0.25)])
        XCTAssertEqual(s.firstTokenSinkHeads(), HeadIndex.all(layers: 2, heads: 2))
    }

    func testPlantedMassiveActivationIsFoundInItsDimension() {
        // Row 0 of [2, 3, 8]: position 1 dimension 5 is −500 against a median of 0.1; position 0
        // has a value of 150 but a median of 1 (only 150×); position 2 is padding with a huge value.
        // Row 1 is 0.1 everywhere.
        let batch = PromptBatch(tokens: TokenBatch(rows: [[11, 12], [13, 14, 15]]), promptIndices: [0, 1])
        var residual = Tensor(shape: [2, 3, 8], repeating: 0.1)
        for i in 0..<8 { residual.storage[i] = 1 }
        residual.storage[3] = 150
        residual.storage[8 + 5] = -500
        residual.storage[16 + 2] = 1e6
        var acc = accumulator(layers: 3)
        acc.addPrompts(batch)
        acc.addResidual(residual, layer: 2, batch: batch)
        let s = acc.finish { "t\($0)" }
        XCTAssertEqual(s.massiveActivationTotal, 1)
        let found = s.massiveActivations.first
        XCTAssertEqual(found?.layer, 2)
        XCTAssertEqual(found?.position, 1)
        XCTAssertEqual(found?.dimension, 5)
        XCTAssertEqual(found?.token, "t12")
        XCTAssertEqual(found?.value, -500)
        XCTAssertEqual(found?.medianMagnitude ?? 0, 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.massiveDimensions, [MassiveDimension(layer: 2, dimension: 5, count: 1, maxMagnitude: 500, positions: [1])])
        // Norms: mean over the prompts that reach each position; layers without residuals stay zero.
        let quiet = (8 * 0.01).squareRoot()
        XCTAssertEqual(s.residualNorms[2][0], ((7 + 150 * 150).squareRoot() + quiet) / 2, accuracy: 1e-3)
        XCTAssertEqual(s.residualNorms[2][1], ((7 * 0.01 + 500 * 500).squareRoot() + quiet) / 2, accuracy: 1e-3)
        XCTAssertEqual(s.residualNorms[2][2], quiet, accuracy: 1e-6)
        XCTAssertEqual(s.residualNorms[0], [0, 0, 0])
    }

    func testMassiveThresholdsAreConfigurable() {
        let batch = PromptBatch(tokens: TokenBatch(rows: [[1]]), promptIndices: [0])
        var residual = Tensor(shape: [1, 1, 4], repeating: 1)
        residual.storage[2] = 50
        var acc = SinkAccumulator(layers: 1, heads: 1, bosPrepended: false,
                                  thresholds: SinkThresholds(massiveAbsolute: 20, massiveRelative: 40))
        acc.addPrompts(batch)
        acc.addResidual(residual, layer: 0, batch: batch)
        XCTAssertEqual(acc.finish { "\($0)" }.massiveActivations.map(\.dimension), [2])
    }

    func testMedianMatchesNumPy() {
        for (values, expected) in [([3, -1, 2] as [Float], Float(2)), ([4, -1, 2, 10], 3), ([-7], 7)] {
            XCTAssertEqual(values.withUnsafeBufferPointer(SinkAccumulator.medianMagnitude), expected)
        }
    }

    func testRecordLimitKeepsTheStrongestAndCountsAll() {
        // 40 prompts, each with one hidden sink of a different strength; keep 3.
        var acc = accumulator(recordLimit: 3)
        for p in 0..<40 {
            let s = Float(p % 17) / 40 + 0.3
            let batch = PromptBatch(tokens: TokenBatch(rows: [[1, 2]]), promptIndices: [p])
            acc.addPrompts(batch)
            acc.addPatterns(patternTensor([[[[1, 0], [1 - s, s]]]], positions: 2), layer: 0, batch: batch)
        }
        let s = acc.finish { "\($0)" }
        XCTAssertEqual(s.hiddenSinkTotal, 40)
        XCTAssertEqual(s.hiddenSinks.map(\.prompt), [16, 33, 15])
        XCTAssertEqual(s.hiddenSinkTokens.first?.sinkEvents, 40)
    }
}

extension SinkAccumulator {
    /// Argument order that reads better in tests.
    init(layers: Int, heads: Int, bosPrepended: Bool, thresholds: SinkThresholds) {
        self.init(layers: layers, heads: heads, thresholds: thresholds, bosPrepended: bosPrepended)
    }
}
