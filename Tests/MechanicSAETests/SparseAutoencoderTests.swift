import Foundation
import XCTest
@testable import MechanicSAE
import MechanicTensor

final class SparseAutoencoderTests: XCTestCase {
    /// Points around `clusters` random centres in `dimension` dimensions, cluster by cluster.
    func clusteredData(clusters: Int, perCluster: Int, dimension: Int, seed: UInt64) -> (Tensor, [Int]) {
        var rng = SeededRandom(seed: seed)
        let centres = (0..<clusters).map { _ in (0..<dimension).map { _ in rng.nextNormal() * 3 } }
        var values: [Float] = [], labels: [Int] = []
        for c in 0..<clusters {
            for _ in 0..<perCluster {
                values += centres[c].map { $0 + rng.nextNormal() * 0.1 }
                labels.append(c)
            }
        }
        return (Tensor(shape: [clusters * perCluster, dimension], storage: values), labels)
    }

    func testGradientsMatchFiniteDifferences() throws {
        let (data, _) = clusteredData(clusters: 3, perCluster: 2, dimension: 5, seed: 1)
        for activation in [SAEConfiguration.Activation.relu, .topK(2)] {
            let config = SAEConfiguration(inputDimension: 5, hiddenUnits: 4, activation: activation, l1Coefficient: 0.05, seed: 3)
            var sae = try SparseAutoencoder(configuration: config)
            sae.preBias = SparseAutoencoder.columnMean(data)
            sae.encoderBias = Tensor(shape: [4], storage: [0.3, -0.2, 0.5, 0.1])
            let (_, g) = sae.lossAndGradients(data)
            let parameters: [(WritableKeyPath<SparseAutoencoder, Tensor>, Tensor)] = [
                (\.encoderWeight, g.encoderWeight), (\.encoderBias, g.encoderBias),
                (\.decoderWeight, g.decoderWeight), (\.preBias, g.preBias),
            ]
            for (keyPath, analytic) in parameters {
                for i in stride(from: 0, to: analytic.count, by: 3) {
                    let eps: Float = 1e-3
                    var plus = sae, minus = sae
                    plus[keyPath: keyPath].storage[i] += eps
                    minus[keyPath: keyPath].storage[i] -= eps
                    let numeric = (plus.lossAndGradients(data).0 - minus.lossAndGradients(data).0) / (2 * eps)
                    XCTAssertEqual(analytic.storage[i], numeric, accuracy: 2e-3 + 0.02 * abs(numeric), "\(activation) \(keyPath) [\(i)]")
                }
            }
        }
    }

    /// Largest difference between two tensors, relative to the larger magnitude of either.
    func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = max(a.storage.map(abs).max() ?? 0, b.storage.map(abs).max() ?? 0, 1e-12)
        return a.maxAbsDifference(b) / scale
    }

    func testFastGradientsEqualTheNaiveTwinWhateverIsActive() throws {
        let (data, _) = clusteredData(clusters: 4, perCluster: 6, dimension: 40, seed: 7)
        // Encoder biases that switch every unit on, some units on some rows, or nothing on.
        let regimes: [(String, Float)] = [("all active", 50), ("mixed", -1.5), ("none active", -1e3)]
        var rng = SeededRandom(seed: 11)
        for activation in [SAEConfiguration.Activation.relu, .topK(3)] {
            for (name, bias) in regimes {
                let config = SAEConfiguration(inputDimension: 40, hiddenUnits: 9, activation: activation, l1Coefficient: 0.05, seed: 4)
                var sae = try SparseAutoencoder(configuration: config, mean: SparseAutoencoder.columnMean(data))
                sae.encoderBias = Tensor(shape: [9], storage: (0..<9).map { bias + Float($0) * 0.3 })
                sae.decoderWeight = Tensor.randomNormal([9, 40], std: 1, using: &rng)
                let (fastLoss, fast) = sae.lossAndGradients(data)
                let (naiveLoss, naive) = sae.naiveLossAndGradients(data)
                let label = "\(activation) \(name)"
                XCTAssertEqual(fastLoss, naiveLoss, accuracy: 1e-6 * max(1, abs(naiveLoss)), label)
                XCTAssertLessThanOrEqual(relativeDifference(fast.encoderWeight, naive.encoderWeight), 1e-5, label)
                XCTAssertLessThanOrEqual(relativeDifference(fast.encoderBias, naive.encoderBias), 1e-5, label)
                XCTAssertLessThanOrEqual(relativeDifference(fast.decoderWeight, naive.decoderWeight), 1e-5, label)
                XCTAssertLessThanOrEqual(relativeDifference(fast.preBias, naive.preBias), 1e-5, label)
                let hidden = sae.naiveEncodeForward(data).hidden
                let active = hidden.storage.filter { $0 > 0 }.count
                switch name {
                case "all active": XCTAssertEqual(active, activation == .relu ? 24 * 9 : 24 * 3, label)
                case "none active": XCTAssertEqual(active, 0, label)
                default: XCTAssertTrue(active > 0 && active < 24 * 9, label)
                }
            }
        }
    }

    func testFastEncoderAndCodesEqualTheNaiveTwin() throws {
        let (data, _) = clusteredData(clusters: 3, perCluster: 7, dimension: 24, seed: 8)
        for activation in [SAEConfiguration.Activation.relu, .topK(2)] {
            let config = SAEConfiguration(inputDimension: 24, hiddenUnits: 10, activation: activation, seed: 9)
            var sae = try SparseAutoencoder(configuration: config, mean: SparseAutoencoder.columnMean(data))
            sae.encoderBias = Tensor(shape: [10], storage: (0..<10).map { Float($0) * 0.2 - 1 })
            let fast = sae.encodeForward(data), naive = sae.naiveEncodeForward(data)
            XCTAssertEqual(fast.centred, naive.centred)
            XCTAssertLessThanOrEqual(fast.hidden.maxAbsDifference(naive.hidden), 1e-6)
            let naiveCodes = (0..<21).map { r in (0..<10).reduce(0) { naive.hidden[r, $1] > naive.hidden[r, $0] ? $1 : $0 } }
            XCTAssertEqual(try sae.codes(data), naiveCodes)
        }
    }

    func testAdamStepIsPyTorchsOneLineUpdateElementForElement() {
        var rng = SeededRandom(seed: 12)
        let count = 2500                                                   // two full blocks and a partial one
        let g = (0..<count).map { _ in rng.nextNormal() }
        var (p, m, v) = ((0..<count).map { _ in rng.nextNormal() }, (0..<count).map { _ in rng.nextNormal() * 0.1 },
                         (0..<count).map { _ in abs(rng.nextNormal()) * 0.01 })
        var (p2, m2, v2) = (p, m, v)
        let (stepSize, rootCorrection): (Float, Float) = (5.26e-3, 0.0447)
        SAEAdam.update(&p, g, &m, &v, count: count, stepSize: stepSize, rootCorrection: rootCorrection)
        for i in 0..<count {
            m2[i] = m2[i] + 0.1 * (g[i] - m2[i])
            v2[i] = 0.999 * v2[i] + 0.001 * (g[i] * g[i])
            p2[i] = p2[i] + (-stepSize * m2[i]) / (v2[i].squareRoot() / rootCorrection + 1e-8)
        }
        XCTAssertEqual(m, m2)
        XCTAssertEqual(v, v2)
        XCTAssertEqual(p, p2)
    }

    func testTrainingMatchesALoopOverTheNaiveGradients() throws {
        let (data, _) = clusteredData(clusters: 4, perCluster: 10, dimension: 16, seed: 2)
        let config = SAEConfiguration(inputDimension: 16, hiddenUnits: 12, epochs: 60, seed: 5)
        let (fast, fastLosses) = try SparseAutoencoder.train(on: data, configuration: config)
        var sae = try SparseAutoencoder(configuration: config, mean: SparseAutoencoder.columnMean(data))
        var adam = SAEAdam(sae, learningRate: config.learningRate)
        var losses: [Float] = []
        for _ in 0..<config.epochs {
            var (loss, gradients) = sae.naiveLossAndGradients(data)
            losses.append(loss)
            sae.projectGradients(&gradients)
            adam.step(&sae, gradients)
            SparseAutoencoder.normalizeRows(&sae.encoderWeight)
            SparseAutoencoder.normalizeColumns(&sae.decoderWeight)
        }
        for (a, b) in zip(fastLosses, losses) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        XCTAssertLessThanOrEqual(fast.encoderWeight.maxAbsDifference(sae.encoderWeight), 1e-4)
        XCTAssertLessThanOrEqual(fast.decoderWeight.maxAbsDifference(sae.decoderWeight), 1e-4)
        XCTAssertLessThanOrEqual(fast.encoderBias.maxAbsDifference(sae.encoderBias), 1e-4)
        XCTAssertLessThanOrEqual(fast.preBias.maxAbsDifference(sae.preBias), 1e-4)
    }

    func testTrainingLowersTheLossKeepsUnitNormsAndIsDeterministic() throws {
        let (data, _) = clusteredData(clusters: 4, perCluster: 10, dimension: 16, seed: 2)
        let config = SAEConfiguration(inputDimension: 16, hiddenUnits: 12, epochs: 300, seed: 5)
        let (sae, losses) = try SparseAutoencoder.train(on: data, configuration: config)
        XCTAssertLessThan(losses.last!, 0.5 * losses.first!)
        // Encoder rows and decoder columns (the reference's last axis of each PyTorch weight).
        for r in 0..<12 {
            let norm = (0..<16).reduce(Float(0)) { $0 + sae.encoderWeight[r, $1] * sae.encoderWeight[r, $1] }
            XCTAssertEqual(norm, 1, accuracy: 1e-4)
        }
        for c in 0..<16 {
            let norm = (0..<12).reduce(Float(0)) { $0 + sae.decoderWeight[$1, c] * sae.decoderWeight[$1, c] }
            XCTAssertEqual(norm, 1, accuracy: 1e-4)
        }
        let (again, _) = try SparseAutoencoder.train(on: data, configuration: config)
        XCTAssertEqual(again, sae)
        XCTAssertEqual(try again.codes(data), try sae.codes(data))
        var other = config
        other.seed = 6
        XCTAssertNotEqual(try SparseAutoencoder.train(on: data, configuration: other).autoencoder, sae)
    }

    /// The reference's start: unit encoder rows, encoder bias in ±1/√d, an independent decoder
    /// with unit columns, the pre-bias at zero (or the training mean when asked).
    func testStartsAsTheReferenceDoes() throws {
        let (data, _) = clusteredData(clusters: 3, perCluster: 4, dimension: 9, seed: 5)
        let config = SAEConfiguration(inputDimension: 9, hiddenUnits: 20, seed: 3)
        let sae = try SparseAutoencoder(configuration: config, mean: SparseAutoencoder.columnMean(data))
        XCTAssertEqual(sae.preBias.storage, [Float](repeating: 0, count: 9))
        let bound = 1 / Float(3)
        XCTAssertTrue(sae.encoderBias.storage.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(Set(sae.encoderBias.storage.map { $0 > 0 }).count, 1, "the bias is drawn, not constant")
        XCTAssertNotEqual(sae.decoderWeight, sae.encoderWeight, "the decoder is its own draw")
        for r in 0..<20 {
            XCTAssertEqual((0..<9).reduce(Float(0)) { $0 + sae.encoderWeight[r, $1] * sae.encoderWeight[r, $1] }, 1, accuracy: 1e-5)
        }
        for c in 0..<9 {
            XCTAssertEqual((0..<20).reduce(Float(0)) { $0 + sae.decoderWeight[$1, c] * sae.decoderWeight[$1, c] }, 1, accuracy: 1e-5)
        }
        var departing = config
        departing.preBiasStart = .trainingMean
        let centred = try SparseAutoencoder(configuration: departing, mean: SparseAutoencoder.columnMean(data))
        XCTAssertEqual(centred.preBias, SparseAutoencoder.columnMean(data))
        // A configuration saved before the option existed started at the training mean.
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        json["preBiasStart"] = nil
        let old = try JSONDecoder().decode(SAEConfiguration.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertEqual(old.preBiasStart, .trainingMean)
        XCTAssertEqual(try JSONDecoder().decode(SAEConfiguration.self, from: JSONEncoder().encode(config)), config)
    }

    /// After projection a weight gradient has no component along its unit-norm vector.
    func testProjectedGradientsAreOrthogonalToTheUnitNormVectors() throws {
        let (data, _) = clusteredData(clusters: 3, perCluster: 5, dimension: 7, seed: 6)
        let config = SAEConfiguration(inputDimension: 7, hiddenUnits: 5, l1Coefficient: 0.05, seed: 2)
        let sae = try SparseAutoencoder(configuration: config)
        var (_, g) = sae.naiveLossAndGradients(data)
        let before = g
        sae.projectGradients(&g)
        for r in 0..<5 {
            XCTAssertEqual((0..<7).reduce(Float(0)) { $0 + g.encoderWeight[r, $1] * sae.encoderWeight[r, $1] }, 0, accuracy: 1e-6)
        }
        for c in 0..<7 {
            XCTAssertEqual((0..<5).reduce(Float(0)) { $0 + g.decoderWeight[$1, c] * sae.decoderWeight[$1, c] }, 0, accuracy: 1e-6)
        }
        XCTAssertNotEqual(before.encoderWeight, g.encoderWeight)
        XCTAssertEqual(before.encoderBias, g.encoderBias)
        XCTAssertEqual(before.preBias, g.preBias)
    }

    func testCodesSeparateClusters() throws {
        let (data, labels) = clusteredData(clusters: 3, perCluster: 20, dimension: 8, seed: 4)
        let config = SAEConfiguration(inputDimension: 8, hiddenUnits: 6, l1Coefficient: 0.01, epochs: 400, seed: 1)
        let codes = try SparseAutoencoder.train(on: data, configuration: config).autoencoder.codes(data)
        // Each cluster is dominated by one code, and the clusters' dominant codes differ.
        var dominant: [Int] = []
        for c in 0..<3 {
            let own = codes.indices.filter { labels[$0] == c }.map { codes[$0] }
            let counts = Dictionary(own.map { ($0, 1) }, uniquingKeysWith: +)
            let (code, count) = counts.max { $0.value < $1.value }!
            XCTAssertGreaterThanOrEqual(count, 18, "cluster \(c) codes \(own)")
            dominant.append(code)
        }
        XCTAssertEqual(Set(dominant).count, 3)
    }

    func testTopKKeepsAtMostKActiveUnits() throws {
        let (data, _) = clusteredData(clusters: 2, perCluster: 8, dimension: 10, seed: 9)
        let config = SAEConfiguration(inputDimension: 10, hiddenUnits: 8, activation: .topK(2), epochs: 50, seed: 2)
        let sae = try SparseAutoencoder.train(on: data, configuration: config).autoencoder
        let hidden = try sae.encode(data)
        for r in 0..<16 {
            XCTAssertLessThanOrEqual((0..<8).filter { hidden[r, $0] != 0 }.count, 2)
        }
    }

    func testSaveAndLoadRoundTripAndBadInput() throws {
        let (data, _) = clusteredData(clusters: 2, perCluster: 5, dimension: 6, seed: 3)
        let config = SAEConfiguration(inputDimension: 6, hiddenUnits: 5, activation: .topK(3), epochs: 20, seed: 8)
        let sae = try SparseAutoencoder.train(on: data, configuration: config).autoencoder
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sae-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try sae.save(to: folder)
        XCTAssertEqual(try SparseAutoencoder.load(from: folder), sae)

        XCTAssertThrowsError(try sae.codes(Tensor(shape: [2, 7]))) {
            XCTAssertEqual($0 as? SAEError, .wrongInputWidth(expected: 6, found: 7))
        }
        XCTAssertThrowsError(try SparseAutoencoder.train(on: Tensor(shape: [0, 6]), configuration: config)) {
            XCTAssertEqual($0 as? SAEError, .emptyData)
        }
        var nan = data
        nan.storage[3] = .nan
        XCTAssertThrowsError(try SparseAutoencoder.train(on: nan, configuration: config)) {
            XCTAssertEqual($0 as? SAEError, .nonFiniteData)
        }
        XCTAssertThrowsError(try SparseAutoencoder(configuration: SAEConfiguration(inputDimension: 6, hiddenUnits: 5, activation: .topK(9))))
        // A config that disagrees with the stored weights.
        var bigger = config
        bigger.hiddenUnits = 7
        try JSONEncoder().encode(bigger).write(to: folder.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try SparseAutoencoder.load(from: folder)) {
            guard case SAEError.unreadable = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try SparseAutoencoder.load(from: folder.appendingPathComponent("missing")))
    }
}
