import Foundation
import XCTest
import Mechanic

/// Runs the `mechanic` binary built beside the test bundle and collects what it printed.
func runMechanic(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> CLITests.Result {
    let binary = Bundle.main.bundleURL.appendingPathComponent("mechanic")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw XCTSkip("mechanic binary not found at \(binary.path)")
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes at once: a child that fills one while we wait on the other would block.
    final class Box: @unchecked Sendable { var data = Data() }
    let stderr = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        stderr.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CLITests.Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                           stderr: String(decoding: stderr.data, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal)
}

/// End-to-end tests of the built `mechanic` binary: what a user at a terminal or a script sees.
final class CLITests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ name: String) -> String {
        repository.appendingPathComponent("Tests/Fixtures/models/\(name)").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Killed by a signal (a trap, a segfault): `status` is then the signal's number.
        var signaled = false
    }

    /// Runs the `mechanic` binary built beside this test bundle.
    func mechanic(_ arguments: String...) throws -> Result {
        try run(arguments)
    }

    func run(_ arguments: [String]) throws -> Result {
        try runMechanic(arguments)
    }

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    func testHelpListsTheSubcommandsWithExamples() throws {
        let help = try mechanic("--help")
        XCTAssertEqual(help.status, 0)
        for command in ["inspect", "tokenize", "run", "bench"] { XCTAssertTrue(help.stdout.contains(command), command) }
        let runHelp = try mechanic("run", "--help")
        XCTAssertEqual(runHelp.status, 0)
        XCTAssertTrue(runHelp.stdout.contains("Examples:"))
    }

    func testInspectReportsTheCheckpoint() throws {
        let result = try mechanic("inspect", "--model", Self.fixture("tiny-odd-f16"), "--hooks", "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(json(result.stdout) as? [String: Any])
        XCTAssertEqual(report["layers"] as? Int, 3)
        XCTAssertEqual(report["heads"] as? Int, 3)
        XCTAssertEqual(report["contextLength"] as? Int, 12)
        let hooks = try XCTUnwrap(report["hooks"] as? [[String: Any]])
        XCTAssertEqual(hooks.first?["name"] as? String, "hook_embed")
        XCTAssertEqual(hooks.count, report["hookCount"] as? Int)
    }

    func testRunPredictsWhatTheLibraryPredicts() throws {
        let folder = Self.fixture("tiny-f32")
        let result = try mechanic("run", "--model", folder, "--json", "--top-k", "3",
                                  "--capture", "blocks.*.attn.hook_z", "--positions", "last", "the cat sat")
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(json(result.stdout) as? [[String: Any]])
        let next = try XCTUnwrap(rows.first?["next"] as? [[String: Any]])
        XCTAssertEqual(next.count, 3)
        let activations = try XCTUnwrap(rows.first?["activations"] as? [String: Any])
        XCTAssertEqual(Set(activations.keys), ["blocks.0.attn.hook_z", "blocks.1.attn.hook_z"])

        let model = try CheckpointLoader.load(folder: URL(fileURLWithPath: folder))
        let tokenizer = try GPT2Tokenizer(folder: URL(fileURLWithPath: folder))
        let logits = try model.run(TokenBatch(tokenizer.encode("the cat sat", prependBOS: true)), logits: .last).logits!
        let best = logits.storage.indices.max { logits.storage[$0] < logits.storage[$1] }!
        XCTAssertEqual(next.first?["id"] as? Int, best)
    }

    func testTokenizeMatchesTheTokenizer() throws {
        let folder = Self.fixture("tiny-f32")
        let result = try mechanic("tokenize", "--tokenizer", folder, "--no-prepend-bos", "--json", "hello world")
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(json(result.stdout) as? [[String: Any]])
        let tokenizer = try GPT2Tokenizer(folder: URL(fileURLWithPath: folder))
        XCTAssertEqual(rows.first?["ids"] as? [Int], tokenizer.encode("hello world"))
    }

    func testBadInputIsOneClearLineAndANonZeroExit() throws {
        let cases: [([String], String)] = [
            (["run", "--model", "/no/such/folder", "x"], "not a folder"),
            (["run", "--model", Self.fixture("tiny-odd-f16"), String(repeating: "word ", count: 20)], "context is 12"),
            (["run", "--model", Self.fixture("tiny-f32"), "--capture", "blocks.7.attn.hook_z", "x"], "no hook named"),
            (["run", "--model", Self.fixture("tiny-f32"), "--positions", "first", "x"], "--positions"),
            (["inspect", "--model", Self.repository.path], "config.json"),
            (["bench", "--shapes", "8by16"], "--shapes"),
            (["frobnicate"], "Unexpected argument"),
            // Absurd numbers are refused before any work, not run for hours or allocated until the machine fails.
            (["discover", "--count", "100000000", "--no-db"], "--count must be between 2 and 100000"),
            (["tasks", "show", "ioi", "--count", "1000000000"], "--count must be between 1 and 100000"),
            (["tasks", "make", "induction-random", "--model", Self.fixture("tiny-f32"), "--count", "0"], "--count must be between"),
            (["bench", "training", "--context", "100000000"], "needs about"),
            (["bench", "training", "--layers", "100000"], "needs about"),
            (["bench", "training", "--mlp-width", "0"], "--mlp-width must be 1…65536"),
            (["bench", "training", "--mlp-width", "64", "--attn-only"], "has no MLPs"),
            (["bench", "training", "--mlp-width", "65536", "--layers", "10000"], "needs about"),
            (["card", "--model", Self.fixture("tiny-f32"), "--stability-seeds", "0"], "--stability-seeds"),
            (["discover", "--sae-permutations", "1000000", "--no-db"], "--sae-permutations must be between 0 and 100000"),
            (["discover", "--sae-permutations", "0", "--methods", "sae,sae-z", "--no-db"], "sae-z ranks heads by the label-permutation"),
            (["discover", "--sae-draw", "best", "--no-db"], "--sae-draw"),
        ]
        for (arguments, phrase) in cases {
            let result = try run(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(phrase), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error"), "\(arguments) crashed")
        }
    }

    /// `bench training --mlp-width` times the shape it names: the hidden width reaches the model.
    func testTrainingBenchmarkMLPWidthIsTheModelsNInner() throws {
        let result = try run(["bench", "training", "--layers", "1", "--heads", "2", "--d-model", "8", "--vocab", "16", "--context", "8",
                              "--batch", "1", "--seq", "4", "--seconds", "0.01", "--mlp-width", "24", "--threads", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["dMLP"] as? Int, 24, "the timed model's c_fc is [d_model, 24]")
        let plain = try run(["bench", "training", "--layers", "1", "--heads", "2", "--d-model", "8", "--vocab", "16", "--context", "8",
                             "--batch", "1", "--seq", "4", "--seconds", "0.01", "--threads", "1", "--json"])
        let json4 = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json4["dMLP"] as? Int, 32, "GPT-2's 4 × d_model by default")
    }
}
