import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// `--threads` sets ``Kernels/parallelism`` as well as OpenBLAS's threads; the kernels split their
/// work into disjoint ranges, so a one-core run computes the same bits as an all-core one.
final class ParallelismTests: XCTestCase {
    func testOneWorkerComputesTheSameBitsAsSeveral() throws {
        let saved = Kernels.parallelism
        defer { Kernels.parallelism = saved }
        let batch = randomBatch(lengths: [40, 33, 40, 12, 40, 27, 40, 40], vocab: 11, seed: 12)
        for model in [try tinyModel(context: 48, seed: 21), try tracrShapedModel(context: 48, seed: 22)] {
            func run(_ workers: Int) throws -> (logits: [Float], loss: Float, gradient: [Float]) {
                Kernels.parallelism = workers
                let logits = try model.run(batch).logits!.storage
                let (loss, gradients) = try model.languageModelLoss(batch)
                return (logits, loss, gradients.weights.blocks[0].qkvWeight.storage)
            }
            let one = try run(1), four = try run(4)
            XCTAssertEqual(one.logits, four.logits, model.config.modelType)
            XCTAssertEqual(one.loss, four.loss, model.config.modelType)
            XCTAssertEqual(one.gradient, four.gradient, model.config.modelType)
        }
    }
}
