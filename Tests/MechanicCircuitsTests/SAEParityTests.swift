import Foundation
import XCTest
@testable import MechanicCircuits
@testable import MechanicSAE
import MechanicTensor

/// Mechanic's discrete-SAE method against the authors' code, transcribed in PyTorch by
/// `scripts/make_sae_parity_fixture.py` on a small fixed input (`Tests/Fixtures/sae-parity.json`).
///
/// The two random generators differ, so Swift starts from PyTorch's initial weights and trains on
/// PyTorch's draw of training prompts; everything after that is Mechanic's own code. Training
/// losses and weights agree to float tolerance (two BLAS libraries round differently); codes,
/// scores and AUCs must agree exactly.
final class SAEParityTests: XCTestCase {
    struct Fixture: Decodable {
        struct Weights: Decodable {
            var encoder_weight: [Float]
            var encoder_bias: [Float]
            var decoder_weight: [Float]
            var tied_bias: [Float]
        }
        var prompts: Int
        var layers: Int
        var heads_per_layer: Int
        var d: Int
        var hidden: Int
        var epochs: Int
        var l1: Float
        var learning_rate: Float
        var training_prompts: Int
        var streams: [Float]
        var permutation: [Int]
        var initial: Weights
        var losses: [Float]
        var final: Weights
        var codes: [[Int]]
        var node_scores: [Float]
        var pair_scores: [[Float]]
        var edge_components: Int
        var edge_counts: [Float]
        var ground_truth: [[Int]]
        var node_auc: Double
        var edge_auc: Double
    }

    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sae-parity.json")

    /// `[rows, cols]` PyTorch weight as Mechanic's `[cols, rows]` layout.
    func transposed(_ values: [Float], rows: Int, cols: Int) -> Tensor {
        Tensor(shape: [cols, rows]) { out in for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = values[r * cols + c] } } }
    }

    func testMechanicReproducesTheReferenceCodesScoresAndLosses() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.path))
        let heads = f.layers * f.heads_per_layer, half = f.prompts / 2
        let streams = Tensor(shape: [f.prompts, heads, f.d], storage: f.streams)
        let width = heads * f.d
        let positive = Tensor(shape: [half, heads, f.d], storage: Array(streams.storage[0..<(half * width)]))
        let negative = Tensor(shape: [half, heads, f.d], storage: Array(streams.storage[(half * width)...]))

        // The reference's training rows: the first `training_prompts` of its permutation, all heads.
        let rows = SAEScoring.trainingRows(positive: positive, negative: negative, prompts: Array(f.permutation.prefix(f.training_prompts)))
        XCTAssertEqual(rows.shape, [f.training_prompts * heads, f.d])

        let config = SAEConfiguration(inputDimension: f.d, hiddenUnits: f.hidden, l1Coefficient: f.l1, learningRate: f.learning_rate,
                                      epochs: f.epochs)
        let start = try SparseAutoencoder(
            configuration: config, encoderWeight: Tensor(shape: [f.hidden, f.d], storage: f.initial.encoder_weight),
            encoderBias: Tensor(shape: [f.hidden], storage: f.initial.encoder_bias),
            decoderWeight: transposed(f.initial.decoder_weight, rows: f.d, cols: f.hidden),
            preBias: Tensor(shape: [f.d], storage: f.initial.tied_bias), validating: true)
        let (sae, losses) = try SparseAutoencoder.train(on: rows, configuration: config, start: start)

        XCTAssertEqual(losses.count, f.losses.count)
        var worst: Float = 0
        for (mine, theirs) in zip(losses, f.losses) { worst = max(worst, abs(mine - theirs) / max(abs(theirs), 1e-6)) }
        XCTAssertLessThanOrEqual(worst, 1e-4, "largest relative loss difference over \(f.epochs) epochs")
        XCTAssertLessThanOrEqual(sae.encoderWeight.maxAbsDifference(Tensor(shape: [f.hidden, f.d], storage: f.final.encoder_weight)), 1e-3)
        XCTAssertLessThanOrEqual(sae.encoderBias.maxAbsDifference(Tensor(shape: [f.hidden], storage: f.final.encoder_bias)), 1e-3)
        XCTAssertLessThanOrEqual(sae.decoderWeight.maxAbsDifference(transposed(f.final.decoder_weight, rows: f.d, cols: f.hidden)), 1e-3)
        XCTAssertLessThanOrEqual(sae.preBias.maxAbsDifference(Tensor(shape: [f.d], storage: f.final.tied_bias)), 1e-3)

        // Codes of every prompt and head, exactly.
        let positiveCodes = try SAEScoring.codes(sae, positive, heads: heads)
        let negativeCodes = try SAEScoring.codes(sae, negative, heads: heads)
        XCTAssertEqual(positiveCodes + negativeCodes, f.codes)

        // Node scores, pair scores, the edge variant's head counts and both AUCs, exactly.
        let truth = f.ground_truth.map { HeadID(layer: $0[0], head: $0[1]) }
        let ids = HeadID.all(layers: f.layers, heads: f.heads_per_layer)
        let labels = ids.map { truth.contains($0) }
        let node = DiscreteCodeScoring.nodeScores(positive: positiveCodes, negative: negativeCodes)
        XCTAssertEqual(node, f.node_scores)
        let pairs = DiscreteCodeScoring.edgeScores(positive: positiveCodes, negative: negativeCodes, codes: f.hidden)
        for a in 0..<heads {
            for b in 0..<heads where a != b {
                XCTAssertEqual(Float(pairs[.init(first: min(a, b), second: max(a, b))]!), f.pair_scores[a][b], "pair \(a),\(b)")
            }
        }
        XCTAssertEqual(f.edge_components, heads * heads / 2)
        let edgeCounts = DiscreteCodeScoring.nodeScoresFromEdges(pairs, heads: heads, components: heads * heads / 2)
        XCTAssertEqual(edgeCounts, f.edge_counts)
        // The reference takes AUCs of softmaxed scores; a softmax keeps the order, so the AUC is the same.
        XCTAssertEqual(CircuitEvaluation.rocAUC(scores: node, labels: labels)!, f.node_auc, accuracy: 1e-12)
        XCTAssertEqual(CircuitEvaluation.rocAUC(scores: edgeCounts, labels: labels)!, f.edge_auc, accuracy: 1e-12)
    }

    /// `SAEScoring`'s default draw is a seeded permutation of all prompts, the reference's rule;
    /// the departure takes the first of each side.
    func testTrainingDrawsFollowTheReferenceRuleByDefault() {
        let random = SAEScoring.trainingPromptIndices(positives: 250, negatives: 250, prompts: 10, draw: .random, seed: 3)
        XCTAssertEqual(random.count, 10)
        XCTAssertEqual(Set(random).count, 10)
        XCTAssertTrue(random.allSatisfy { (0..<500).contains($0) })
        XCTAssertEqual(random, SAEScoring.trainingPromptIndices(positives: 250, negatives: 250, prompts: 10, draw: .random, seed: 3))
        XCTAssertNotEqual(random, SAEScoring.trainingPromptIndices(positives: 250, negatives: 250, prompts: 10, draw: .random, seed: 4))
        // Over many seeds the draw reaches both sides and every region of the prompt list.
        let many = (0..<200).flatMap { SAEScoring.trainingPromptIndices(positives: 250, negatives: 250, prompts: 10, draw: .random, seed: $0) }
        XCTAssertEqual(Double(many.filter { $0 < 250 }.count) / Double(many.count), 0.5, accuracy: 0.05)
        XCTAssertGreaterThan(Set(many).count, 450)
        XCTAssertEqual(SAEScoring.trainingPromptIndices(positives: 250, negatives: 250, prompts: 10, draw: .firstOfEachSide, seed: 3),
                       [0, 1, 2, 3, 4, 250, 251, 252, 253, 254])
        XCTAssertEqual(SAEScoring.trainingPromptIndices(positives: 3, negatives: 20, prompts: 10, draw: .firstOfEachSide, seed: 0),
                       [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map { $0 < 3 ? $0 : $0 })
    }
}
