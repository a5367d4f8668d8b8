import MechanicTensor
import XCTest
@testable import MechanicCorpus

final class SplitTests: XCTestCase {
    func testHeldOutPromptsNeverAppearInTraining() {
        let train = Set(CorpusGenerator(seed: 1).prefix(30_000).map(\.prompt))
        let heldOut = CorpusGenerator(seed: 1, split: .heldOut).documents(5_000)
        XCTAssertTrue(heldOut.allSatisfy { CorpusSplit.of(prompt: $0.prompt) == .heldOut })
        XCTAssertTrue(train.allSatisfy { CorpusSplit.of(prompt: $0) == .train })
        XCTAssertTrue(train.isDisjoint(with: heldOut.map(\.prompt)))
        // Every family of the mixture is represented in the held-out split.
        XCTAssertEqual(Set(heldOut.map(\.kind)), Set(TaskFamilyKind.allCases.filter { CorpusMix.standard.weight(of: $0) > 0 }))
        let v2 = CorpusGenerator(seed: 1, mix: .version2, split: .heldOut).documents(2_000)
        XCTAssertTrue(v2.allSatisfy { CorpusSplit.of(prompt: $0.prompt) == .heldOut })
        XCTAssertEqual(Set(v2.map(\.kind)), Set(TaskFamilyKind.allCases.filter { CorpusMix.version2.weight(of: $0) > 0 }))
    }

    func testHeldOutSplitSharesTheVocabulary() {
        let heldOut = CorpusGenerator(seed: 2, mix: .only(.ioi), split: .heldOut)
        let names = Set(heldOut.prefix(3_000).map(\.answer))
        XCTAssertEqual(names, Set(Lexicon.spaced(Lexicon.names)))
    }

    func testAboutOnePromptInEightIsHeldOut() {
        var rng = SeededRandom(seed: 3)
        for kind in TaskFamilyKind.allCases {
            let family = kind.family
            let n = 8_000
            let held = (0..<n).filter { _ in CorpusSplit.of(prompt: family.sample(using: &rng).prompt) == .heldOut }
            XCTAssertEqual(Double(held.count) / Double(n), 1.0 / 8, accuracy: 0.015, "\(kind)")
        }
    }

    /// The split is a fixed function of the prompt's bytes: frozen so it never moves silently.
    func testSplitIsFrozen() {
        let held = (1100...1199).filter { year in
            CorpusSplit.of(prompt: "The war lasted from the year \(year) to the year 11") == .heldOut
        }
        XCTAssertEqual(held, Self.frozenHeldOutYears)
    }

    /// Start years whose "The war lasted from the year {year} to the year 11" prompt is held out.
    static let frozenHeldOutYears = [
        1100, 1121, 1125, 1132, 1135, 1136, 1137, 1146, 1152, 1161, 1168, 1173, 1174, 1180, 1182, 1186, 1188, 1189,
    ]
}
