import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

final class ActivationPatchingTests: XCTestCase {
    let config = TransformerConfig(layers: 3, heads: 4, dModel: 16, contextLength: 16, vocabSize: 30, innerDimension: 12)

    func prompts(seed: UInt64, corruptSameAsClean: Bool = false) -> [TaskPrompt] {
        var rng = SeededRandom(seed: seed)
        return (0..<5).map { _ in
            let tokens = (0..<7).map { _ in Int(rng.next() % 30) }
            let corrupted = corruptSameAsClean ? tokens : (0..<7).map { _ in Int(rng.next() % 30) }
            return TaskPrompt(text: "", tokens: tokens, answers: [Int(rng.next() % 30)], wrongAnswers: [Int(rng.next() % 30)],
                              corruptedTokens: corrupted)
        }
    }

    func testPatchingAHeadWithItsOwnActivationHasNoEffect() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 1, std: 0.4))
        let scores = try ActivationPatching.headScores(model: model, prompts: prompts(seed: 2, corruptSameAsClean: true),
                                                       metric: .logitDifference, source: .resample)
        XCTAssertEqual(scores.scores.count, 12)
        for s in scores.scores { XCTAssertEqual(s, 0, accuracy: 1e-5) }
    }

    func testStackedPatchingEqualsOneRunPerHead() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 3, std: 0.4))
        let set = prompts(seed: 4)
        for source in ActivationPatching.Source.allCases {
            let scores = try ActivationPatching.headScores(model: model, prompts: set, metric: .logitDifference, source: source)
            let clean = try TaskDataset.metricValues(model: model, prompts: set, metric: .logitDifference)
            let corruptedZ = try model.run(TokenBatch(rows: set.map { $0.corruptedTokens! }), logits: .none,
                                           capture: CaptureSpec(where: { $0.point == .z })).cache
            let cleanZ = try model.run(TokenBatch(rows: set.map(\.tokens)), logits: .none,
                                       capture: CaptureSpec(where: { $0.point == .z })).cache
            for head in HeadID.all(layers: 3, heads: 4) {
                let action: Intervention.Action
                switch source {
                case .resample: action = .patch(corruptedZ)
                case .zero: action = .zero
                case .mean:
                    let z = cleanZ[.z(head.layer)]!
                    let per = z.count / 5
                    action = .mean(Tensor(shape: Array(z.shape.dropFirst()), storage: (0..<per).map { i in
                        (0..<5).reduce(Float(0)) { $0 + z.storage[$1 * per + i] } / 5 }))
                }
                let patched = try TaskDataset.metricValues(model: model, prompts: set, metric: .logitDifference,
                                                           interventions: [Intervention(.z(head.layer), heads: [head.head], action)])
                let expected = zip(clean, patched).map { $0 - $1 }.reduce(0, +) / 5
                XCTAssertEqual(scores.score(of: head)!, expected, accuracy: 1e-4, "\(source) \(head)")
            }
        }
    }

    func testCorruptedPromptsMustMatchTheirCleanLength() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 1))
        var set = prompts(seed: 5)
        set[2].corruptedTokens?.removeLast()
        XCTAssertThrowsError(try ActivationPatching.headScores(model: model, prompts: set, metric: .logitDifference)) {
            XCTAssertEqual($0 as? TaskError, .corruptedLengthMismatch(index: 2))
        }
    }
}
