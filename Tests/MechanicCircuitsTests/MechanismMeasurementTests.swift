import XCTest
@testable import MechanicCircuits
import MechanicCorpus
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// The canonical-check measurements run on any model and label roles by their stated thresholds
/// (the checks themselves are asserted on the shipped models in ReferenceModelTests).
final class MechanismMeasurementTests: XCTestCase {
    static let tokenizer: GPT2Tokenizer = {
        let text = CorpusGenerator(seed: 3, mix: .version2).text(minimumBytes: 300_000)
        let built = try! VocabularyBuilder.build(from: text, size: 1800, required: VocabularyBuilder.standardRequired)
        return try! GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
    }()

    func model(layers: Int = 2) throws -> Transformer {
        let config = TransformerConfig(layers: layers, heads: 2, dModel: 16, contextLength: 256, vocabSize: Self.tokenizer.vocabularySize,
                                       innerDimension: 32, bosTokenID: Self.tokenizer.bosID, eosTokenID: Self.tokenizer.eosID)
        return try Transformer(config: config, weights: .random(config: config, seed: 5, std: 0.3))
    }

    func testInductionMeasurementCoversEveryCellThatFits() throws {
        let small = try model()
        let report = try InductionMechanism.measure(model: small, tokenizer: Self.tokenizer, lengths: [4, 200], offsets: [0, 3], perCell: 2, seed: 1)
        XCTAssertEqual(report.runs.map(\.length), [4], "n = 200 does not fit a 256-token context twice and is left out")
        XCTAssertEqual(report.induction.count, 4)
        XCTAssertTrue((report.induction + report.previousToken).allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(report.shiftedInduction?.count, 4)
        XCTAssertTrue(report.shiftedInduction!.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(report.shiftedInduction!.max(), report.shiftedInduction![report.heads.firstIndex(of: report.shiftedInductionHead!)!])
        if let previous = report.previousTokenHead {
            XCTAssertLessThan(previous.layer, report.inductionHead.layer, "the previous-token head is before the induction head")
        } else {
            XCTAssertEqual(report.inductionHead.layer, 0)
        }
        XCTAssertEqual(try InductionMechanism.measure(model: small, tokenizer: Self.tokenizer, lengths: [4], offsets: [0], perCell: 2, seed: 1).induction,
                       try InductionMechanism.measure(model: small, tokenizer: Self.tokenizer, lengths: [4], offsets: [0], perCell: 2, seed: 1).induction)
    }

    /// With the induction head in layer 0 there is no previous-token head to ablate: the ablation
    /// check measures 0 (a cut of nothing), not NaN, which card.json could not hold as a number.
    func testAblationCheckWithoutAPreviousTokenHeadMeasuresZero() throws {
        let report = try InductionMechanism.measure(model: try model(layers: 1), tokenizer: Self.tokenizer, lengths: [4], offsets: [0], perCell: 2, seed: 1)
        XCTAssertEqual(report.inductionHead.layer, 0)
        XCTAssertNil(report.previousTokenHead)
        XCTAssertTrue(report.runs.allSatisfy { $0.ablatedAccuracy == nil })
        let check = try XCTUnwrap(report.checks.first { $0.name == "accuracy cut by ablating the previous-token head" })
        XCTAssertEqual(check.measured, 0)
        XCTAssertFalse(check.passed)
        XCTAssertTrue(check.detail.contains("no previous-token head"), check.detail)
    }

    /// On `R + R` (n = 4), a head attending from each second-copy position i to i − n + 2 scores 1
    /// shifted and 0 induction; one attending to i − n + 1 the reverse.
    func testShiftedAndTextbookInductionAttentionAreScoredApart() {
        let n = 4, start = 1, t = start + 2 * n, heads = 2
        var pattern = [Float](repeating: 0, count: heads * t * t)     // [batch 1, head, q, k]
        for q in 0..<t {
            let secondCopy = q >= start + n
            pattern[(0 * t + q) * t + (secondCopy ? q - n + 2 : q)] = 1   // head 0: shifted
            pattern[(1 * t + q) * t + (secondCopy ? q - n + 1 : q)] = 1   // head 1: textbook
        }
        let queries = (start + n)..<t
        XCTAssertEqual(InductionMechanism.attentionSums(pattern, batch: 1, heads: heads, positions: t, queries: queries, back: n - 2), [4, 0])
        XCTAssertEqual(InductionMechanism.attentionSums(pattern, batch: 1, heads: heads, positions: t, queries: queries, back: n - 1), [0, 4])
    }

    /// The induction role circuit takes heads that copy through i − n + 2 as well as textbook
    /// ones, labelled apart, and the previous-token heads before the last of them.
    func testInductionRoleCircuitIncludesShiftedHeads() {
        let heads = HeadID.all(layers: 3, heads: 2)   // a0.0 a0.1 a1.0 a1.1 a2.0 a2.1
        var report = InductionMechanism.Report(heads: heads, induction: [0, 0, 0, 0.1, 0, 0], previousToken: [0.9, 0, 0.8, 0, 0, 0.95],
                                               runs: [], offsets: [], sequencesPerCell: 0, inductionHead: heads[3], previousTokenHead: heads[0],
                                               thirdCopyRecent: 0, thirdCopyOldest: 0, checks: [])
        XCTAssertEqual(RoleCircuits.induction(report), [], "no head copies")
        report.shiftedInduction = [0, 0, 0, 0.1, 0.6, 0]
        let circuit = RoleCircuits.induction(report)
        XCTAssertEqual(circuit.map(\.head), [heads[0], heads[2], heads[4]], "a2.1 comes after the shifted head")
        XCTAssertEqual(circuit.map(\.role), ["previous token", "previous token", "induction (i − n + 2)"])
        report.induction[4] = 0.5
        XCTAssertEqual(RoleCircuits.induction(report).map(\.role), ["previous token", "previous token", "induction"], "textbook wins")
    }

    func testIOIRolesFollowTheirThresholds() throws {
        let report = try IOIMechanism.measure(model: try model(layers: 3), tokenizer: Self.tokenizer, count: 12, seed: 2)
        XCTAssertGreaterThan(report.prompts, 0)
        let s = report.scores
        for head in report.roles.nameMovers {
            let i = s.heads.firstIndex(of: head)!
            XCTAssertTrue(s.endToIO[i] >= 0.4 && s.endToIO[i] >= 3 * s.endToS1[i] && s.directIOMinusS[i] > 0)
        }
        for head in report.roles.duplicateToken { XCTAssertGreaterThanOrEqual(s.duplicateToken[s.heads.firstIndex(of: head)!], 0.3) }
        // IO, IO+1, S1 and S1+1 are four distinct positions, so one END row gives them at most 1 in all.
        let afterIO = try XCTUnwrap(s.endToAfterIO), afterS1 = try XCTUnwrap(s.endToAfterS1)
        XCTAssertEqual(afterIO.count, s.heads.count)
        for i in s.heads.indices {
            XCTAssertGreaterThanOrEqual(min(afterIO[i], afterS1[i]), 0)
            XCTAssertLessThanOrEqual(s.endToIO[i] + afterIO[i] + s.endToS1[i] + afterS1[i], 1.0001, "\(s.heads[i])")
        }
        // Constructed scores: a textbook chain gets every role.
        let heads = HeadID.all(layers: 3, heads: 1)
        let textbook = IOIMechanism.HeadScores(heads: heads, duplicateToken: [0.6, 0, 0], inductionAtS2: [0, 0, 0],
                                               endToS2: [0, 0.5, 0], endToS2OnABC: [0, 0.1, 0], endToIO: [0, 0, 0.7],
                                               endToS1: [0, 0, 0.1], directIOMinusS: [0, 0, 2], patchEffect: [0.1, 0.2, 0.5])
        let roles = IOIMechanism.roles(textbook)
        XCTAssertEqual(roles.duplicateToken, [heads[0]])
        XCTAssertEqual(roles.sInhibition, [heads[1]])
        XCTAssertEqual(roles.nameMovers, [heads[2]])
        XCTAssertEqual(RoleCircuits.ioi(IOIMechanism.Report(prompts: 1, scores: textbook, roles: roles, names: [],
                                                            sInhibitionThroughNameMoverQueries: nil, checks: [])).map(\.head), heads)
        // S-inhibition must attend less on ABC twins and come after a duplicate-token head.
        var flat = textbook
        flat.endToS2OnABC = [0, 0.6, 0]
        XCTAssertTrue(IOIMechanism.roles(flat).sInhibition.isEmpty)
    }

    /// Attention to the token after IO is reported beside the name-mover check, never as it: a
    /// head that reads IO+1 is not a name mover by the literature's definition.
    func testAfterNameAttentionIsDetailNotMeasurement() {
        let heads = HeadID.all(layers: 3, heads: 1)
        var shifted = IOIMechanism.HeadScores(heads: heads, duplicateToken: [0.6, 0, 0], inductionAtS2: [0, 0, 0],
                                              endToS2: [0, 0.5, 0], endToS2OnABC: [0, 0.1, 0], endToIO: [0, 0, 0.05],
                                              endToS1: [0, 0, 0.01], directIOMinusS: [0, 0, 2], patchEffect: [0.1, 0.2, 0.5])
        func nameMover(_ s: IOIMechanism.HeadScores) -> MechanismCheck {
            IOIMechanism.checks(scores: s, roles: IOIMechanism.roles(s), names: [], effect: nil).first { $0.name == "best name-mover attention to IO" }!
        }
        XCTAssertEqual(nameMover(shifted).detail, "head a2.0", "cards written before the diagnostic read as they did")
        shifted.endToAfterIO = [0, 0.1, 0.7]
        shifted.endToAfterS1 = [0, 0, 0.2]
        let check = nameMover(shifted)
        XCTAssertEqual(check.measured, 0.05, accuracy: 1e-6)
        XCTAssertFalse(check.passed)
        XCTAssertTrue(IOIMechanism.roles(shifted).nameMovers.isEmpty)
        XCTAssertEqual(check.detail, "head a2.0; after-name (END → IO+1) best 0.700, head a2.0, 0.200 to S1+1")
    }

    /// Without a name mover the path-patching check measures 0 and fails; a share measured into
    /// the backup name movers is only reported in its detail.
    func testPathPatchingIntoBackupNameMoversIsDetailNotMeasurement() {
        let heads = HeadID.all(layers: 3, heads: 1)
        let backupOnly = IOIMechanism.HeadScores(heads: heads, duplicateToken: [0.6, 0, 0], inductionAtS2: [0, 0, 0],
                                                 endToS2: [0, 0.5, 0], endToS2OnABC: [0, 0.1, 0], endToIO: [0, 0, 0.45],
                                                 endToS1: [0, 0, 0.4], directIOMinusS: [0, 0, 2], patchEffect: [0.1, 0.2, 0.5])
        let roles = IOIMechanism.roles(backupOnly)
        XCTAssertEqual(roles.nameMovers, [])
        XCTAssertEqual(roles.backupNameMovers, [heads[2]])
        let backup = PathPatching.Effect(clean: 2, patched: 1)
        let check = IOIMechanism.checks(scores: backupOnly, roles: roles, names: [], effect: nil, backupEffect: backup)
            .first { $0.name.hasPrefix("S-inhibition → name-mover queries") }!
        XCTAssertEqual(check.measured, 0)
        XCTAssertFalse(check.passed)
        XCTAssertTrue(check.detail.contains("backup name movers' queries instead (senders a1.0, receivers a2.0) the share is 0.500"), check.detail)
        let none = IOIMechanism.checks(scores: backupOnly, roles: roles, names: [], effect: nil)
            .first { $0.name.hasPrefix("S-inhibition → name-mover queries") }!
        XCTAssertEqual(none.detail, "no S-inhibition or no name-mover head to patch between")
    }
}
