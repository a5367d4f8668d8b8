import XCTest
import MechanicModel
import MechanicTensor
import MechanicTokenizer
@testable import MechanicSinks

final class AttentionCalibrationTests: XCTestCase {
    /// Random causal softmax rows `[2, 3, 6, 6]` with a planted sink column 2 in every head;
    /// row 1 has 4 real tokens and garbage after them.
    func plantedPattern() -> Tensor {
        var rng = SeededRandom(seed: 11)
        let (b, h, t) = (2, 3, 6)
        var p = Tensor(shape: [b, h, t, t])
        for m in 0..<(b * h) {
            for i in 0..<t {
                var row = (0...i).map { j in Float(rng.nextUniform()) + (j == 2 ? 3 : 0) + (j == 0 ? 2 : 0) }
                let sum = row.reduce(0, +)
                row = row.map { $0 / sum }
                for j in 0...i { p.storage[(m * t + i) * t + j] = row[j] }
                if m / h == 1 && i >= 4 { for j in 0..<t { p.storage[(m * t + i) * t + j] = 7 } }
            }
        }
        return p
    }

    func testCalibrationKeepsRowSumsAndLeavesOtherHeadsBitIdentical() {
        let original = plantedPattern()
        var p = original
        let settings = CalibrationSettings(threshold: 0.1, beta: 0.4)
        AttentionCalibration.calibrate(&p, heads: [1], lengths: [6, 4], settings: settings)
        let t = 6
        func row(_ t0: Tensor, _ b: Int, _ h: Int, _ i: Int) -> ArraySlice<Float> {
            let start = ((b * 3 + h) * t + i) * t
            return t0.storage[start..<(start + t)]
        }
        for b in 0..<2 {
            let n = [6, 4][b]
            for i in 0..<t {
                for h in [0, 2] { XCTAssertEqual(row(p, b, h, i), row(original, b, h, i), "head \(h) changed") }
                guard i < n else {
                    XCTAssertEqual(row(p, b, 1, i), row(original, b, 1, i), "padded row changed")
                    continue
                }
                let new = Array(row(p, b, 1, i)), old = Array(row(original, b, 1, i))
                XCTAssertEqual(new.reduce(0, +), 1, accuracy: 1e-6)
                XCTAssertEqual(new[0], old[0], "first-token attention changed")
                // Sinks (α_j > 0.1 over the real queries, j ≥ 1) are scaled by β; the other keys after
                // the first all grow by one common factor.
                let sinks = (1..<n).filter { j in (j..<n).reduce(0) { $0 + Double(original[b, 1, $1, j]) } / Double(n - j) > 0.1 }
                XCTAssertTrue(sinks.contains(2))
                let others = (1...max(i, 1)).filter { $0 <= i && !sinks.contains($0) }
                let factors = others.map { Double(new[$0] / old[$0]) }
                for j in sinks where j <= i && !others.isEmpty { XCTAssertEqual(new[j], 0.4 * old[j], accuracy: 1e-7) }
                for f in factors { XCTAssertEqual(f, factors[0], accuracy: 1e-5) }
            }
        }
        XCTAssertNotEqual(p, original)
    }

    func testRowsWithNowhereToPutTheMassAreLeftAlone() {
        // Row 2 attends only to position 0 and the sink at 2: no other key can take the freed mass.
        var p = patternTensor([[[[1, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]]]], positions: 3)
        let original = p
        AttentionCalibration.calibrate(&p, heads: [0], lengths: [3], settings: CalibrationSettings())
        XCTAssertEqual(p, original)
        // With a key to receive it, the sink is scaled: position 2 is a sink (α = .5), position 1 is too (α = .25).
        var q = patternTensor([[[[1, 0, 0, 0], [0.2, 0.8, 0, 0], [0.1, 0.1, 0.8, 0], [0.1, 0.05, 0.8, 0.05]]]], positions: 4)
        AttentionCalibration.calibrate(&q, heads: [0], lengths: [4], settings: CalibrationSettings(threshold: 0.3, beta: 0.5))
        // α₁ = (.8 + .1 + .05)/3 = .317 > .3 and α₂ = .8 are sinks; α₃ = .05 is not.
        XCTAssertEqual(q[0, 0, 3, 0], 0.1, accuracy: 1e-7)
        XCTAssertEqual(q[0, 0, 3, 1], 0.025, accuracy: 1e-7)
        XCTAssertEqual(q[0, 0, 3, 2], 0.4, accuracy: 1e-7)
        XCTAssertEqual(q[0, 0, 3, 3], 0.475, accuracy: 1e-6)
        XCTAssertEqual(q[0, 0, 2, 2], 0.8, accuracy: 1e-7)      // row 2: no non-sink key after the first
    }

    func testInterventionsCalibrateOnlyTheChosenHeadInTheModel() throws {
        let model = try SinkModel.make()
        let batch = TokenBatch(rows: SinkModel.prompts.map { [SinkModel.bos] + $0 })
        let capture = CaptureSpec(names: [.pattern(0), .pattern(1)])
        let clean = try model.run(batch, logits: .none, capture: capture).cache
        let interventions = try AttentionCalibration.calibrationInterventions(heads: [HeadIndex(layer: 0, head: 1)], batch: batch,
                                                                              config: model.config)
        XCTAssertEqual(interventions.map(\.hook), [.pattern(0)])
        let calibrated = try model.run(batch, logits: .none, capture: capture, interventions: interventions).cache
        let t = batch.positions
        let clean0 = clean[.pattern(0)]!, cal0 = calibrated[.pattern(0)]!
        XCTAssertEqual(Array(cal0.storage[0..<(t * t)]), Array(clean0.storage[0..<(t * t)]), "L0H0 changed")
        XCTAssertEqual(calibrated[.pattern(1)], clean[.pattern(1)], "layer 1 changed (W_O is zero)")
        // Prompt 0, X at position 2: from query 3 on, X keeps 0.4 of its attention and the rows still sum to 1.
        for i in 3..<8 {
            XCTAssertEqual(cal0[0, 1, i, 2], 0.4 * clean0[0, 1, i, 2], accuracy: 1e-6)
            XCTAssertEqual((0...i).reduce(Float(0)) { $0 + cal0[0, 1, i, $1] }, 1, accuracy: 1e-6)
        }
    }

    func testCalibrationRejectsHeadsOutsideTheModel() throws {
        let model = try SinkModel.make()
        let batch = TokenBatch(rows: [[0, 1, 2]])
        func check(_ heads: [HeadIndex], settings: CalibrationSettings = CalibrationSettings(), _ expected: SinkError) {
            XCTAssertThrowsError(try AttentionCalibration.calibrationInterventions(heads: heads, batch: batch, config: model.config,
                                                                                  settings: settings)) { error in
                XCTAssertEqual(error as? SinkError, expected)
            }
        }
        check([HeadIndex(layer: 2, head: 0)], .layerOutOfRange(layer: 2, layers: 2))
        check([HeadIndex(layer: -1, head: 0)], .layerOutOfRange(layer: -1, layers: 2))
        check([HeadIndex(layer: 1, head: 2)], .headOutOfRange(layer: 1, head: 2, heads: 2))
        check([], settings: CalibrationSettings(beta: 1.5), .invalidOption(name: "beta", value: "1.5", expected: "a factor in [0, 1]"))
        XCTAssertEqual(try AttentionCalibration.calibrationInterventions(heads: [], batch: batch, config: model.config).count, 0)
    }

    func testHeadSearchKeepsHeadsThatImproveTheMetric() throws {
        // The hand-built model with W_O reading each head's value, so calibrating changes the logits.
        var weights = try SinkModel.make().weights
        for l in 0..<2 {
            var wo = Tensor(shape: [8, 8])
            for i in 0..<8 { wo.storage[i * 8 + (7 - i)] = 0.5 }
            weights.blocks[l].attnOutWeight = wo
        }
        let model = try Transformer(config: SinkModel.config, weights: weights)
        let rows = SinkModel.prompts.map { [SinkModel.bos] + $0 }
        let calibration = [TokenBatch(rows: Array(rows[0..<2])), TokenBatch(rows: [rows[2]])]
        let heldOut = [TokenBatch(rows: [rows[0], [0, 3, 1, 2, 4, 5]])]
        // Metric: mean logit of token 3 at the last position (higher is better).
        let metric: (CalibrationSplit, [Tensor]) throws -> Double = { _, logits in
            let values = logits.flatMap { t in (0..<t.shape[0]).map { Double(t[$0, 0, 3]) } }
            return values.reduce(0, +) / Double(values.count)
        }
        var steps: [Int] = []
        let result = try AttentionCalibration.searchHeads(model: model, calibration: calibration, heldOut: heldOut,
                                                          progress: { done, _ in steps.append(done) }, metric: metric)
        XCTAssertEqual(steps, [1, 2, 3, 4])
        XCTAssertEqual(result.scores.map(\.head), HeadIndex.all(layers: 2, heads: 2))
        // BOS heads have no hidden sink: calibrating them changes nothing.
        XCTAssertEqual(result.scores[0].improvement, 0)
        XCTAssertEqual(result.scores[3].improvement, 0)
        XCTAssertEqual(result.selectedHeads, result.scores.filter { $0.improvement > 0 }.map(\.head))
        // Recompute the reported numbers by hand.
        func value(_ batches: [TokenBatch], _ heads: [HeadIndex]) throws -> Double {
            try metric(.heldOut, batches.map { batch in
                try model.run(batch, logits: .last, interventions: AttentionCalibration.calibrationInterventions(
                    heads: heads, batch: batch, config: model.config)).logits!
            })
        }
        XCTAssertEqual(result.calibrationBaseline, try value(calibration, []))
        XCTAssertEqual(result.scores[1].metric, try value(calibration, [HeadIndex(layer: 0, head: 1)]))
        XCTAssertEqual(result.heldOutBefore, try value(heldOut, []))
        XCTAssertEqual(result.heldOutAfter, try value(heldOut, result.selectedHeads))
        XCTAssertEqual(result.calibrationWithSelected, try value(calibration, result.selectedHeads))
        XCTAssertNotEqual(result.scores[1].improvement, 0)

        XCTAssertThrowsError(try AttentionCalibration.searchHeads(model: model, calibration: [], heldOut: heldOut, metric: metric)) {
            XCTAssertEqual($0 as? SinkError, .emptySplit(name: "calibration"))
        }
        XCTAssertThrowsError(try AttentionCalibration.searchHeads(model: model, calibration: calibration, heldOut: heldOut,
                                                                  candidates: [HeadIndex(layer: 0, head: 5)], metric: metric)) {
            XCTAssertEqual($0 as? SinkError, .headOutOfRange(layer: 0, head: 5, heads: 2))
        }
    }

    func testMeanLogitDifference() {
        let a = Tensor(shape: [2, 1, 3], storage: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [1, 2, 3], storage: [0, 0, 0, 9, 7, 8])
        // Rows: (2 − 1), (4 − 6), (9 − 8) at the last selected position.
        XCTAssertEqual(AttentionCalibration.meanLogitDifference([a, b], correct: [1, 0, 0], incorrect: [0, 2, 2]), (1 - 2 + 1) / 3)
    }
}
