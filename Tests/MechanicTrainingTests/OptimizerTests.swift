import XCTest
@testable import MechanicTraining
import MechanicModel
import MechanicTensor

final class OptimizerTests: XCTestCase {
    let config = TransformerConfig(layers: 1, heads: 2, dModel: 4, contextLength: 4, vocabSize: 6, innerDimension: 4)

    func testAdamWStepMatchesTheFormula() {
        var weights = TransformerWeights.random(config: config, seed: 1, std: 0.5)
        let before = weights
        let gradients = TransformerWeights.random(config: config, seed: 2, std: 1)
        var adam = AdamW(config: config, hyperparameters: .init(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1))
        adam.update(&weights, gradients: gradients, learningRate: 0.01)
        adam.update(&weights, gradients: gradients, learningRate: 0.01)
        // Two identical gradients: m̂ = g, v̂ = g², so each step moves by lr·(sign(g)·|g|/(|g|+ε) + wd·p) (decay on matrices only).
        for (path, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            let decayed = before[keyPath: keyPath].shape.count >= 2
            for i in 0..<before[keyPath: keyPath].count {
                var p = Double(before[keyPath: keyPath].storage[i])
                let g = Double(gradients[keyPath: keyPath].storage[i])
                for _ in 0..<2 { p -= 0.01 * (g / (abs(g) + 1e-8) + (decayed ? 0.1 * p : 0)) }
                XCTAssertEqual(Double(weights[keyPath: keyPath].storage[i]), p, accuracy: 1e-5, "\(path)[\(i)]")
            }
        }
        XCTAssertEqual(adam.step, 2)
    }

    func testScheduleWarmsUpThenDecaysToTheFloor() {
        let s = LearningRateSchedule(peak: 1e-3, minimum: 1e-4, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.rate(at: 0), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(s.rate(at: 9), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(s.rate(at: 60), 5.5e-4, accuracy: 1e-7)   // half-way down the cosine
        XCTAssertEqual(s.rate(at: 110), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(s.rate(at: 500), 1e-4, accuracy: 1e-9)
        for step in 10..<109 { XCTAssertGreaterThanOrEqual(s.rate(at: step), s.rate(at: step + 1)) }
    }

    func testClippingScalesToTheMaximumNorm() {
        var g = TransformerWeights.random(config: config, seed: 3, std: 10)
        let norm = GradientClipping.globalNorm(g, config: config)
        XCTAssertEqual(GradientClipping.clip(&g, config: config, maxNorm: 1), norm)
        XCTAssertEqual(GradientClipping.globalNorm(g, config: config), 1, accuracy: 1e-4)
        let small = GradientClipping.globalNorm(g, config: config)
        GradientClipping.clip(&g, config: config, maxNorm: 100)
        XCTAssertEqual(GradientClipping.globalNorm(g, config: config), small)
    }

    func testSamplerIsSeededAndShiftsTargets() throws {
        let tokens = Array(0..<1000)
        var a = try BatchSampler(tokens: tokens, batchSize: 4, sequenceLength: 8, seed: 5)
        var b = try BatchSampler(tokens: tokens, batchSize: 4, sequenceLength: 8, seed: 5)
        for _ in 0..<3 {
            let (x, y) = a.next()
            let (x2, y2) = b.next()
            XCTAssertEqual(x, x2)
            XCTAssertEqual(y, y2)
            for r in 0..<4 { XCTAssertEqual(x.row(r).map { $0 + 1 }, y[r]) }
        }
        XCTAssertThrowsError(try BatchSampler(tokens: [1, 2, 3], batchSize: 1, sequenceLength: 8, seed: 0)) {
            XCTAssertEqual($0 as? TrainingError, .corpusTooSmall(tokens: 3, needed: 10))
        }
        let windows = BatchSampler.sequentialWindows(tokens, sequenceLength: 100, limit: 50)
        XCTAssertEqual(windows.count, 9)
        XCTAssertEqual(windows[1].inputs.first, 100)
    }
}
