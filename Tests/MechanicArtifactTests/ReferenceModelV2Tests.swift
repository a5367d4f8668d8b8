import Foundation
import XCTest
import Mechanic

/// The shipped reference models v2: their canonical-mechanism checks reproduce the card, the
/// checks the card reports as passed still pass, and their ground-truth circuits are faithful on
/// prompts drawn with a seed neither the corpus nor the card used.
final class ReferenceModelV2Tests: XCTestCase {
    /// The checks each model passes (by name); its card gives every other check's measured value.
    static let passing: [String: [String]] = [
        "mechanic-v2": ["accuracy cut by ablating the previous-token head"],
        "mechanic-attn-only-v2": ["accuracy cut by ablating the previous-token head", "third copy: attention to recent minus oldest copy",
                                  "best duplicate-token score (S2 → S1)", "best S-inhibition score (END → S2) after a duplicate-token head",
                                  "that head's END → S2 attention, clean minus ABC twins"],
        "mechanic-v2-drill": ["third copy: attention to recent minus oldest copy", "IO top-1 among all names",
                              "IO top-1 among all names, distractor example first"],
        "mechanic-v2-drill-constant": [
            "second-copy accuracy, n = 10", "second-copy loss, n = 25", "second-copy accuracy, n = 25", "second-copy loss, n = 50",
            "earlier previous-token score", "accuracy cut by ablating the previous-token head", "IO top-1 among all names",
            "IO top-1 among all names, distractor example first", "that head's END → S2 attention, clean minus ABC twins"],
        "mechanic-v2-drill-constant-narrow": [
            "best induction score", "second-copy loss, n = 10", "second-copy accuracy, n = 10", "second-copy loss, n = 25",
            "second-copy accuracy, n = 25", "second-copy loss, n = 50", "earlier previous-token score",
            "accuracy cut by ablating the previous-token head", "IO top-1 among all names", "IO top-1 among all names, distractor example first",
            "best duplicate-token score (S2 → S1)", "that head's END → S2 attention, clean minus ABC twins"],
        "mechanic-attn-only-v2-drill-constant": [
            "second-copy loss, n = 25", "second-copy accuracy, n = 25", "second-copy loss, n = 50", "earlier previous-token score",
            "accuracy cut by ablating the previous-token head", "IO top-1 among all names", "IO top-1 among all names, distractor example first",
            "best duplicate-token score (S2 → S1)", "best S-inhibition score (END → S2) after a duplicate-token head",
            "that head's END → S2 attention, clean minus ABC twins", "best name-mover attention to IO"],
    ]

    /// Prompt seed for the held-out faithfulness check: not a corpus seed (2026 and its
    /// complement) and not one of the card's (1, 2, 102, 202, 3).
    static let heldOutSeed: UInt64 = 4_242

    func testShippedUnder25MBWithCardAndBothGroundTruths() throws {
        for name in Self.passing.keys.sorted() {
            let folder = ReferenceModelTests.models.appendingPathComponent(name)
            for file in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "card.json", "README.md", "recipe.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "\(name)/\(file)")
            }
            let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path)[.size] as! Int
            XCTAssertLessThan(size, 25_000_000, "\(name) must stay under 25 MB")
            let (_, _, card) = try ReferenceModelTests.load(name)
            for circuit in card.roleCircuits ?? [] {
                for file in ["\(circuit.task).json", "\(circuit.task).minimal.json"] {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("circuits/" + file).path), "\(name)/\(file)")
                }
            }
        }
    }

    /// The card's architecture row gives the MLP width the shipped config has (GPT-2's 4 × d_model,
    /// or the recipe's own, as for the narrow model).
    func testCardStatesTheConfigsMLPWidth() throws {
        for name in Self.passing.keys.sorted() {
            let (model, _, _) = try ReferenceModelTests.load(name)
            let readme = try String(contentsOf: ReferenceModelTests.models.appendingPathComponent(name).appendingPathComponent("README.md"), encoding: .utf8)
            let row = try XCTUnwrap(readme.split(separator: "\n").first { $0.hasPrefix("| architecture |") }, name)
            let c = model.config
            let expected = c.attentionOnly ? "attention-only (no MLPs)" : c.dMLP == 4 * c.dModel ? "MLPs (4·d_model)" : "MLPs \(c.dMLP) wide"
            XCTAssertTrue(row.contains(expected), "\(name): \(row) should say \(expected)")
        }
    }

    /// The shipped recipe is the one `mechanic train --recipe NAME` runs today.
    func testShippedRecipeIsTheRegisteredOne() throws {
        for name in Self.passing.keys.sorted() {
            let url = ReferenceModelTests.models.appendingPathComponent(name).appendingPathComponent("recipe.json")
            let shipped = try JSONDecoder().decode(ReferenceRecipe.self, from: Data(contentsOf: url))
            XCTAssertEqual(shipped, ReferenceRecipe.named(name), name)
        }
    }

    func testCanonicalChecksReproduceTheCardAndTheClaimedOnesPass() throws {
        for (name, claimed) in Self.passing.sorted(by: { $0.key < $1.key }) {
            let (model, tokenizer, card) = try ReferenceModelTests.load(name)
            let recorded = try XCTUnwrap(card.mechanisms, "\(name)'s card has no canonical checks").checks
            let induction = try InductionMechanism.measure(model: model, tokenizer: tokenizer, seed: 1)
            let ioi = try IOIMechanism.measure(model: model, tokenizer: tokenizer, seed: 1)
            let measured = induction.checks + ioi.checks
            XCTAssertEqual(measured.map(\.name), recorded.map(\.name), name)
            for (now, then) in zip(measured, recorded) {
                XCTAssertEqual(now.measured, then.measured, accuracy: 1e-4, "\(name): \(now.name)")
                XCTAssertEqual(now.passed, then.passed, "\(name): \(now.name)")
            }
            for check in claimed {
                let found = try XCTUnwrap(measured.first { $0.name == check }, "\(name): no check named \(check)")
                XCTAssertTrue(found.passed, "\(name): \(check) measured \(found.measured), bar \(found.comparison.rawValue) \(found.threshold)")
            }
        }
    }

    /// Each greedy minimal circuit, on fresh prompts, keeps most of the metric alone, and more
    /// than its complement and random head sets of its size do.
    func testMinimalCircuitsAreFaithfulOnHeldOutPrompts() throws {
        for name in Self.passing.keys.sorted() {
            let (model, tokenizer, card) = try ReferenceModelTests.load(name)
            XCTAssertFalse(card.circuits.isEmpty, "\(name) has no ground-truth circuit")
            for circuit in card.circuits {
                let (prompts, f) = try ReferenceModelTests.faithfulness(of: circuit, model: model, tokenizer: tokenizer, card: card,
                                                                        promptSeed: Self.heldOutSeed, randomTrials: 5)
                XCTAssertGreaterThanOrEqual(prompts, 8, "\(name) \(circuit.task)")
                XCTAssertGreaterThan(f.recovered, 0.5, "\(name) \(circuit.task): derived to keep \(circuit.retain) on the card's prompts")
                XCTAssertLessThan(f.complement, f.circuit, "\(name) \(circuit.task)")
                XCTAssertLessThan(f.randomMean, f.circuit, "\(name) \(circuit.task)")
            }
        }
    }

    /// The role-based circuits' recorded faithfulness reproduces on the card's prompts (whatever
    /// it is: the card says when a role-based circuit is not sufficient alone).
    func testRoleBasedCircuitsRecordedFaithfulnessReproduces() throws {
        for name in Self.passing.keys.sorted() {
            let (model, tokenizer, card) = try ReferenceModelTests.load(name)
            let circuits = try XCTUnwrap(card.roleCircuits, "\(name) has no role-based circuits")
            XCTAssertFalse(circuits.isEmpty, name)
            for circuit in circuits {
                let (prompts, f) = try ReferenceModelTests.faithfulness(of: circuit, model: model, tokenizer: tokenizer, card: card,
                                                                        promptSeed: card.evaluation.circuitSeed,
                                                                        randomTrials: circuit.faithfulness.random.count)
                XCTAssertEqual(prompts, circuit.prompts, "\(name) \(circuit.task)")
                XCTAssertEqual(f.circuit, circuit.faithfulness.circuit, accuracy: 1e-4, "\(name) \(circuit.task)")
                XCTAssertEqual(f.complement, circuit.faithfulness.complement, accuracy: 1e-4, "\(name) \(circuit.task)")
            }
        }
    }
}
