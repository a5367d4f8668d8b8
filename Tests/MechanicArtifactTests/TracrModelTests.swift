import Foundation
import XCTest
import Mechanic

/// The tracr-compiled models (`artifacts/models/tracr-*`, written by `scripts/tracr/`) compute what
/// tracr computes on every input of their domain, and their ground truth is where the compiler
/// put it.
final class TracrModelTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("artifacts/models")
    static let programs = ["reverse", "frac_prevs", "sort", "hist"]
    /// tracr runs in float32 with its own summation order (jax/XLA); the numpy re-implementation
    /// in `scripts/tracr/reference_forward.py` differs from it by 3.8e-6 in the residual.
    static let tolerance: Float = 1e-4

    struct IOFile: Decodable {
        struct Example: Decodable {
            var input: String
            var ids: [Int]
            /// tracr's output-space logits `[position][output]`, BOS position included.
            var logits: [[Float]]
            /// tracr's decoded outputs after BOS.
            var decoded: [String]
        }
        var first_output_id: Int
        var output_tokens: [String]
        var examples: [Example]
    }

    struct Program {
        let name: String
        let folder: URL
        let model: Transformer
        let io: IOFile
        let batch: TokenBatch
        var outputs: Range<Int> { io.first_output_id..<(io.first_output_id + io.output_tokens.count) }
    }

    func load(_ name: String) throws -> Program {
        let folder = Self.models.appendingPathComponent("tracr-\(name)")
        let model = try CheckpointLoader.load(folder: folder)
        let io = try JSONDecoder().decode(IOFile.self, from: Data(contentsOf: folder.appendingPathComponent("tracr-io.json")))
        // Every input in one ragged batch: the bidirectional attention must mask each row's padding.
        return Program(name: name, folder: folder, model: model, io: io, batch: TokenBatch(rows: io.examples.map(\.ids)))
    }

    /// Logits `[batch, pos, vocab]` of every input under `interventions`.
    func logits(_ p: Program, _ interventions: [Intervention] = []) throws -> Tensor {
        try p.model.run(p.batch, interventions: interventions).logits!
    }

    func testEveryProgramIsShippedWithGroundTruthAndTask() throws {
        for name in Self.programs {
            let folder = Self.models.appendingPathComponent("tracr-\(name)")
            for file in ["config.json", "model.safetensors", "tokenizer.json", "tracr-io.json", "README.md",
                         "circuits/\(name).json", "circuits/\(name).edges.txt", "tasks/\(name).jsonl"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "tracr-\(name)/\(file)")
            }
        }
    }

    func testLogitsEqualTracrsOutputsOnEveryInputOfTheDomain() throws {
        for name in Self.programs {
            let p = try load(name)
            XCTAssertEqual(p.io.examples.count, 363, name)                  // 3 + 9 + 27 + 81 + 243
            let logits = try logits(p)
            let (t, v) = (p.batch.positions, p.model.config.vocabSize)
            var worst: Float = 0
            for (row, example) in p.io.examples.enumerated() {
                for pos in 0..<example.ids.count {
                    let base = (row * t + pos) * v
                    for token in 0..<v where !p.outputs.contains(token) {
                        XCTAssertEqual(logits.storage[base + token], 0, "\(name) \(example.input): an input token has a logit")
                    }
                    let mine = p.outputs.map { logits.storage[base + $0] }
                    for (a, b) in zip(mine, example.logits[pos]) { worst = max(worst, abs(a - b)) }
                    guard pos > 0 else { continue }                          // tracr decodes BOS as BOS
                    let expected = example.decoded[pos - 1]
                    if p.outputs.count == 1 {
                        XCTAssertEqual(mine[0], Float(expected)!, accuracy: Self.tolerance, "\(name) \(example.input) position \(pos)")
                    } else {
                        let best = mine.indices.max { mine[$0] < mine[$1] }!
                        XCTAssertEqual(p.io.output_tokens[best], "=" + expected, "\(name) \(example.input) position \(pos)")
                    }
                }
            }
            XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(name): largest output-logit difference from tracr")
            print("tracr-\(name): largest output-logit difference from tracr \(worst)")
        }
    }

    /// The ground truth file's heads and MLPs.
    func truth(_ p: Program) throws -> (heads: Set<HeadID>, mlps: Set<Int>) {
        let json = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: p.folder.appendingPathComponent("circuits/\(p.name).json"))) as? [String: Any])
        let heads = try XCTUnwrap(json["heads"] as? [[Int]]).map { HeadID(layer: $0[0], head: $0[1]) }
        return (Set(heads), Set(try XCTUnwrap(json["mlps"] as? [Int])))
    }

    /// Components outside the ground truth are empty (all-zero weights) and ablating them all
    /// changes nothing; ablating any one ground-truth component changes some output.
    func testGroundTruthComponentsAreWhereTheCompilerPutThem() throws {
        for name in Self.programs {
            let p = try load(name)
            let (heads, mlps) = try truth(p)
            let c = p.model.config
            XCTAssertFalse(heads.isEmpty, name)
            for layer in 0..<c.layers {
                let block = p.model.weights.blocks[layer]
                for head in 0..<c.heads where !heads.contains(HeadID(layer: layer, head: head)) {
                    let rows = (head * c.dHead * c.dModel)..<((head + 1) * c.dHead * c.dModel)
                    XCTAssertTrue(block.attnOutWeight.storage[rows].allSatisfy { $0 == 0 }, "\(name): a\(layer).\(head) writes")
                }
                if !mlps.contains(layer) {
                    XCTAssertTrue(block.mlp!.outWeight.storage.allSatisfy { $0 == 0 }, "\(name): m\(layer) writes")
                }
            }
            let clean = try logits(p)
            func changed(_ interventions: [Intervention]) throws -> Float {
                zip(try logits(p, interventions).storage, clean.storage).reduce(0) { max($0, abs($1.0 - $1.1)) }
            }
            var outside: [Intervention] = []
            for layer in 0..<c.layers {
                let others = (0..<c.heads).filter { !heads.contains(HeadID(layer: layer, head: $0)) }
                if !others.isEmpty { outside.append(Intervention(.z(layer), heads: others, .zero)) }
                if !mlps.contains(layer) { outside.append(Intervention(.mlpOut(layer), .zero)) }
            }
            XCTAssertEqual(try changed(outside), 0, "\(name): ablating the components outside the ground truth")
            for head in heads {
                XCTAssertGreaterThan(try changed([Intervention(.z(head.layer), heads: [head.head], .zero)]), 0.1, "\(name): \(head)")
            }
            for layer in mlps {
                XCTAssertGreaterThan(try changed([Intervention(.mlpOut(layer), .zero)]), 0.1, "\(name): m\(layer)")
            }
        }
    }

    /// The edge-level truth names edges of the model's graph, and its senders and receivers are the
    /// ground-truth components (plus the embedding and the logits).
    func testEdgeTruthIsAnEdgeCircuitOfTheGroundTruthComponents() throws {
        for name in Self.programs {
            let p = try load(name)
            let graph = ComputationalGraph(config: p.model.config)
            let data = try Data(contentsOf: p.folder.appendingPathComponent("circuits/\(name).edges.txt"))
            let edges = try EdgeGroundTruth.read(data, graph: graph)
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
            XCTAssertEqual(edges.circuit.edgeCount, lines.count, name)
            let (heads, mlps) = try truth(p)
            let nodes = Set(["input", "logits"] + heads.map { "a\($0.layer).h\($0.head)" } + mlps.map { "m\($0)" })
            for line in lines {
                for end in line.components(separatedBy: "->") {
                    XCTAssertTrue(nodes.contains(String(end.prefix { $0 != "<" })), "\(name): \(line)")
                }
            }
        }
    }
}
