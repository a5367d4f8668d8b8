import Foundation
import XCTest
import Mechanic

/// Hostile input at the command line: corrupt weights, non-finite or absurd numbers, an output
/// nobody reads, foreign line endings, a circuit of another model. Each is a non-zero exit with
/// one clear line on standard error (or, where asked for, a clean success), never a crash.
final class HostileInputCLITests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func expectFailure(_ result: CLITests.Result, _ phrase: String, _ arguments: [String],
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, "\(arguments)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(phrase), "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertFalse(result.stderr.contains("Fatal error"), "\(arguments) crashed", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)", file: file, line: line)
    }

    /// tiny-f32 with one weight set to NaN.
    func corruptCopy() throws -> URL {
        let folder = scratch.appendingPathComponent("tiny-nan")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: CLITests.fixture("tiny-f32")), to: folder)
        let weights = folder.appendingPathComponent("model.safetensors")
        let file = try SafetensorsFile(path: weights.path)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        tensors["transformer.h.1.mlp.c_fc.weight"]!.storage[5] = .nan
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: weights)
        return folder
    }

    func testNonFiniteWeightsAreRefusedUnlessAllowed() throws {
        let folder = try corruptCopy().path
        for arguments in [["inspect", "--model", folder], ["run", "--model", folder, "the cat"],
                          ["discover", "--model", folder, "--no-db"], ["tasks", "show", "induction-random", "--model", folder]] {
            let result = try runMechanic(arguments)
            expectFailure(result, "tensor transformer.h.1.mlp.c_fc.weight contains NaN or infinity", arguments)
            XCTAssertTrue(result.stderr.contains("--allow-non-finite-weights"), result.stderr)
            XCTAssertEqual(result.stdout, "")
        }
        // Allowed, the model loads and runs; its NaN logits print as JSON strings, not an encoding error.
        let result = try runMechanic(["run", "--model", folder, "--allow-non-finite-weights", "--json", "--top-k", "2", "the cat"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 1)
        XCTAssertTrue(result.stdout.contains("\"nan\""), result.stdout)
        let inspect = try runMechanic(["inspect", "--model", folder, "--allow-non-finite-weights", "--json"])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
    }

    /// A model that does not fit in the memory there is (here a limit set by the user) is refused
    /// before loading, with its size, instead of being killed by the OOM killer.
    func testAModelLargerThanTheMemoryLeftIsRefusedWithItsSize() throws {
        let folder = CLITests.repository.appendingPathComponent("Tests/Fixtures/models/tiny-f32").path
        let arguments = ["run", "--model", folder, "the cat"]
        let result = try runMechanic(arguments, environment: ["MECHANIC_MEMORY_LIMIT": "1K"])
        expectFailure(result, "needs about", arguments)
        XCTAssertTrue(result.stderr.contains("1.0 KB is available"), result.stderr)
        XCTAssertEqual(try runMechanic(arguments, environment: ["MECHANIC_MEMORY_LIMIT": "1G"]).status, 0)
    }

    /// Property test over option values: seeded random draws of hostile numbers (negative, zero,
    /// huge, overflowing, NaN, infinities, hex, empty, other scripts' digits, another option) for
    /// numeric options of commands that are cheap when the value is fine. Whatever the value: no
    /// signal, no Swift trap, and a refusal says so on standard error and writes nothing.
    func testRandomOptionValuesNeverCrash() throws {
        let tiny = CLITests.repository.appendingPathComponent("Tests/Fixtures/models/tiny-f32").path
        let missing = scratch.appendingPathComponent("none.sqlite").path
        let sinks = scratch.appendingPathComponent("sinks").path, mini = StoreWorkflowTests.model
        let cases: [(prefix: [String], option: String)] = [
            (["run", "--model", tiny, "the cat"], "--top-k"),
            (["run", "--model", tiny, "the cat"], "--threads"),
            (["tokenize", "--model", tiny, "the cat"], "--threads"),
            (["tasks", "make", "ioi", "--model", mini], "--count"),
            (["tasks", "make", "ioi", "--model", mini], "--seed"),
            (["sinks", "--model", tiny, "--out", sinks, "--no-db", "the cat sat on the mat"], "--min-lift"),
            (["sinks", "--model", tiny, "--out", sinks, "--no-db", "the cat sat on the mat"], "--min-observers"),
            (["sinks", "--model", tiny, "--out", sinks, "--no-db", "the cat sat on the mat"], "--batch-size"),
            (["sinks", "--model", tiny, "--out", sinks, "--no-db", "the cat sat on the mat"], "--hidden-threshold"),
            (["export", "1", "--db", missing, "--level", "edges"], "--edges"),
            (["evaluate", "1", "--db", missing], "--prompts"),
            (["discover", "--no-db", "--sae-hidden", "0"], "--count"),
            (["discover", "--no-db", "--count", "0"], "--patching-prompts"),
        ]
        let values = ["-1", "0", "1", "2", "-0", "nan", "-nan", "inf", "-inf", "1e309", "-1e309", "1e3", "+5", "0x10", "1.5", "-2.5",
                      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999", "",
                      " ", "1,2", "\u{0663}", "--json"]
        var rng = SeededRandom(seed: 15)
        for trial in 0..<60 {
            let (prefix, option) = cases[Int(rng.next() % UInt64(cases.count))]
            let value = values[Int(rng.next() % UInt64(values.count))]
            let arguments = prefix + [option, value]
            let result = try runMechanic(arguments)
            let label = "trial \(trial): \(arguments.joined(separator: " "))"
            XCTAssertFalse(result.signaled, "\(label) was killed by signal \(result.status)")
            XCTAssertLessThan(result.status, 128, label)
            for crash in ["Fatal error", "Backtrace", "Stack dump", "Illegal instruction"] {
                XCTAssertFalse(result.stderr.contains(crash), "\(label): \(result.stderr)")
            }
            if result.status != 0 {
                XCTAssertFalse(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(label) failed silently")
                XCTAssertEqual(result.stdout, "", label)
            }
        }
        // Refusals wrote nothing: only successful sink runs may have left their folder.
        for entry in try FileManager.default.contentsOfDirectory(atPath: scratch.path) {
            XCTAssertEqual(entry, "sinks", "unexpected \(entry)")
        }
    }

    /// `--top-k -1` used to say "Missing value for '--top-k'" (ArgumentParser reads -1 as a flag);
    /// a negative number after an option is now its value, so the range check names the problem.
    func testNegativeNumbersReachTheirOptionsRangeCheck() throws {
        let tiny = CLITests.repository.appendingPathComponent("Tests/Fixtures/models/tiny-f32").path
        let result = try runMechanic(["run", "--model", tiny, "--top-k", "-1", "the cat"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertFalse(result.stderr.contains("Missing value"), result.stderr)
        XCTAssertTrue(result.stderr.contains("--top-k"), result.stderr)
        let discover = try runMechanic(["discover", "--no-db", "--acdc-threshold", "-1"])
        XCTAssertTrue(discover.stderr.contains("--acdc-threshold must be a finite number at least 0"), discover.stderr)
        // After `--` nothing is rewritten: "-1" stays a prompt.
        let prompt = try runMechanic(["tokenize", "--model", tiny, "--", "-1"])
        XCTAssertEqual(prompt.status, 0, prompt.stderr)
    }

    func testNumbersOutOfRangeOrNonFiniteAreRefusedBeforeAnyWork() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let cases: [([String], String)] = [
            (["discover", "--sae-hidden", "0", "--no-db"], "--sae-hidden must be between 1 and 16384 (got 0): the SAE's size"),
            (["discover", "--sae-hidden", "100000000", "--no-db"], "--sae-hidden must be between 1 and 16384"),
            (["sae", "train", "--hidden", "1000000", "--out", scratch.appendingPathComponent("sae").path, "--no-db"], "--hidden must be between 1 and 16384"),
            (["discover", "--sae-epochs=-1", "--no-db"], "--sae-epochs must be between 0 and 1000000"),
            (["discover", "--sae-epochs", "2000000000", "--no-db"], "--sae-epochs must be between 0 and 1000000"),
            (["sae", "train", "--epochs", "9999999", "--out", scratch.appendingPathComponent("sae").path, "--no-db"], "--epochs must be between 0 and 1000000"),
            (["discover", "--threads", "\(cores + 1)", "--no-db"], "--threads must be between 1 and \(cores)"),
            (["bench", "--threads", "0"], "--threads must be between 1 and \(cores)"),
            (["discover", "--acdc-threshold", "nan", "--no-db"], "--acdc-threshold must be a finite number"),
            (["discover", "--acdc-threshold=-1", "--no-db"], "--acdc-threshold must be a finite number at least 0"),
            (["discover", "--sae-l1", "inf", "--no-db"], "--sae-l1 must be a finite number"),
            (["sae", "train", "--l1", "nan", "--out", scratch.appendingPathComponent("sae").path, "--no-db"], "--l1 must be a finite number"),
            (["sae", "train", "--learning-rate", "inf", "--out", scratch.appendingPathComponent("sae").path, "--no-db"], "--learning-rate must be a finite number above 0"),
            (["train", "--recipe", "smoke", "--learning-rate", "nan", "--out", scratch.appendingPathComponent("model").path], "--learning-rate must be a finite number above 0"),
            (["discover", "--methods", "", "--no-db"], "has an empty name"),
            (["discover", "--methods", "sae,,patching", "--no-db"], "has an empty name"),
            (["discover", "--methods", "sae,sae", "--no-db"], "--methods names sae twice"),
            (["discover", "--patching-prompts", "1000000000", "--no-db"], "--patching-prompts must be between 1 and 100000"),
        ]
        for (arguments, phrase) in cases {
            let result = try runMechanic(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(phrase), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error"), "\(arguments) crashed")
            XCTAssertEqual(result.stdout, "", "\(arguments)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [], "a refused command wrote files")
    }

    /// Runs mechanic with standard output sent to `output` (a closed pipe, /dev/full).
    func run(_ arguments: [String], standardOutput output: Any) throws -> CLITests.Result {
        let binary = Bundle.main.bundleURL.appendingPathComponent("mechanic")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("mechanic binary not found") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = output
        process.standardError = err
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLITests.Result(status: process.terminationStatus, stdout: "", stderr: String(decoding: stderr, as: UTF8.self))
    }

    func testClosedOrFullStandardOutputIsAnError() throws {
        for arguments in [["tasks", "list"], ["tasks", "list", "--json"], ["--help"],
                          ["tokenize", "--tokenizer", CLITests.fixture("tiny-f32"), "--json", "hello world"]] {
            // Nobody reads: `mechanic … | head -0`.
            let closed = Pipe()
            try closed.fileHandleForReading.close()
            expectFailure(try run(arguments, standardOutput: closed), "cannot write to standard output", arguments)
            // Nothing fits: `mechanic … > /dev/full`.
            guard let full = FileHandle(forWritingAtPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
            defer { try? full.close() }
            expectFailure(try run(arguments, standardOutput: full), "cannot write to standard output: No space left on device", arguments)
        }
    }

    func testPromptsFilesWithWindowsLineEndingsAreOnePromptALine() throws {
        let file = scratch.appendingPathComponent("prompts.txt")
        try "the cat sat\r\nthe dog ran\r\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try runMechanic(["run", "--model", CLITests.fixture("tiny-f32"), "--prompts-file", file.path, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 2)
        XCTAssertFalse(result.stdout.contains("\\r"), "a carriage return was kept in a prompt")
    }

    func testGroundTruthOfAnotherModelIsAnErrorNamingTheHead() throws {
        let truth = scratch.appendingPathComponent("truth.json")
        try #"{"heads": [[0, 1], [99, 0]]}"#.write(to: truth, atomically: true, encoding: .utf8)
        let arguments = ["discover", "--model", CLITests.fixture("tiny-f32"), "--task", "induction-random", "--count", "8",
                         "--ground-truth", truth.path, "--methods", "patching", "--no-db"]
        expectFailure(try runMechanic(arguments), "names head a99.0 (layer 99, head 0), outside the model's 2 layers × 4 heads", arguments)
    }
}
