import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicSAE
import MechanicTasks
import MechanicTensor

final class SAEScoringTests: XCTestCase {
    /// A random 2-layer, 3-head model and `count` positives and negatives of `length` tokens.
    /// Positives start with token 1, negatives with token 2: heads that read the first token tell them apart.
    func tinyModelAndDataset(count: Int, length: Int, seed: UInt64) throws -> (Transformer, TaskDataset) {
        let config = TransformerConfig(layers: 2, heads: 3, dModel: 12, contextLength: 16, vocabSize: 20, innerDimension: 8)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 6, std: 0.5))
        var rng = SeededRandom(seed: seed)
        let make = { (first: Int, rng: inout SeededRandom) in
            TaskPrompt(text: "", tokens: [first] + (1..<length).map { _ in Int(rng.next() % 20) }, answers: [1], wrongAnswers: [2])
        }
        let dataset = TaskDataset(task: "t", metric: .logitDifference,
                                  positives: (0..<count).map { _ in make(1, &rng) }, negatives: (0..<count).map { _ in make(2, &rng) })
        return (model, dataset)
    }

    func testScoresAreDeterministicAndBounded() throws {
        let (model, dataset) = try tinyModelAndDataset(count: 12, length: 6, seed: 3)
        let options = SAEScoring.Options(sae: SAEConfiguration(inputDimension: 12, hiddenUnits: 8, epochs: 100, seed: 2), trainingPrompts: 6)
        let a = try SAEScoring.run(model: model, dataset: dataset, options: options)
        let b = try SAEScoring.run(model: model, dataset: dataset, options: options)
        XCTAssertEqual(a.nodes.scores, b.nodes.scores)
        XCTAssertEqual(a.edgeNodes.scores, b.edgeNodes.scores)
        XCTAssertEqual(a.nodes.scores.count, 6)
        XCTAssertTrue(a.nodes.scores.allSatisfy { $0 >= 0 && $0 <= 8 })
        XCTAssertEqual(a.nodes.edges?.count, 15)
        XCTAssertLessThan(a.losses.last!, a.losses.first!)
        XCTAssertGreaterThan(a.nodes.scores.reduce(0, +), 0, "some head must produce codes only positives produce")
    }

    /// `run` is `capture` then `score`, and a capture's rows are its prompts' rows in any order.
    ///
    /// A reordered capture equals a capture of the reordered prompts to float rounding, not bit for
    /// bit: OpenBLAS's sgemm rounds a row differently depending on where it sits in the batch on
    /// some CPUs (seen on an AVX2 EPYC, not on an AVX-512 one), and the SAE's codes can flip on
    /// such last-bit differences, so the bit-exact comparison of scores is made on one capture.
    func testScoringACaptureOnceEqualsRunningOnTheReorderedPrompts() throws {
        let (model, dataset) = try tinyModelAndDataset(count: 10, length: 5, seed: 4)
        let options = SAEScoring.Options(sae: SAEConfiguration(inputDimension: 12, hiddenUnits: 8, epochs: 60, seed: 5), trainingPrompts: 4)
        let captured = try SAEScoring.capture(model: model, dataset: dataset, options: options)
        // Reordering the captured rows is reordering the prompts: the SAE then trains on other prompts.
        let order = [7, 2, 9, 0, 1, 3, 4, 5, 6, 8]
        var reordered = dataset
        reordered.positives = order.map { dataset.positives[$0] }
        reordered.negatives = order.reversed().map { dataset.negatives[$0] }
        let recaptured = try SAEScoring.capture(model: model, dataset: reordered, options: options)
        XCTAssertLessThanOrEqual(captured.positive.rows(order).maxAbsDifference(recaptured.positive), 1e-5)
        XCTAssertLessThanOrEqual(captured.negative.rows(order.reversed()).maxAbsDifference(recaptured.negative), 1e-5)
        let direct = try SAEScoring.run(model: model, dataset: reordered, options: options)
        let fromCapture = try SAEScoring.score(positive: recaptured.positive, negative: recaptured.negative,
                                               layers: 2, heads: 3, options: options)
        XCTAssertEqual(direct.nodes.scores, fromCapture.nodes.scores)
        XCTAssertEqual(direct.edgeNodes.scores, fromCapture.edgeNodes.scores)
        XCTAssertEqual(direct.losses, fromCapture.losses)
        XCTAssertNotEqual(direct.losses, try SAEScoring.run(model: model, dataset: dataset, options: options).losses,
                          "other training prompts must give another SAE")
        XCTAssertThrowsError(try SAEScoring.score(positive: captured.positive, negative: captured.negative, layers: 3, heads: 3, options: options))
        XCTAssertThrowsError(try SAEScoring.score(positive: captured.positive, negative: Tensor(shape: [10, 6, 5]), layers: 2, heads: 3,
                                                  options: options))
    }

    /// Every SAE score comes with its control; sae-z is the node score's z; no control, no sae-z.
    func testScoresComeWithTheirLabelPermutationControl() throws {
        let (model, dataset) = try tinyModelAndDataset(count: 12, length: 6, seed: 3)
        var options = SAEScoring.Options(sae: SAEConfiguration(inputDimension: 12, hiddenUnits: 8, epochs: 100, seed: 2), trainingPrompts: 6)
        options.control = .init(permutations: 50, seed: 1)
        let result = try SAEScoring.run(model: model, dataset: dataset, options: options)
        let node = try XCTUnwrap(result.nodeControl), edge = try XCTUnwrap(result.edgeNodeControl)
        XCTAssertEqual(node.heads.map(\.observed), result.nodes.scores)
        XCTAssertEqual(edge.heads.map(\.observed), result.edgeNodes.scores)
        XCTAssertEqual(node.nullScores.count, 50)
        XCTAssertEqual(result.zScores?.scores, node.heads.map(\.z))
        XCTAssertEqual(result.zScores?.method, "sae-z")
        XCTAssertEqual(result.pairControl?.count, 15)
        XCTAssertEqual(result.pairControl?.map(\.statistic.observed), result.nodes.edges?.map(\.score))
        XCTAssertTrue(node.heads.allSatisfy { $0.p > 0 && $0.p <= 1 })
        options.control.permutations = 0
        let bare = try SAEScoring.run(model: model, dataset: dataset, options: options)
        XCTAssertNil(bare.nodeControl)
        XCTAssertNil(bare.zScores)
        XCTAssertEqual(bare.nodes.scores, result.nodes.scores, "the control never changes the scores")
    }
}
