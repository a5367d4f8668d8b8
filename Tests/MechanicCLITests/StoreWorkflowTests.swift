import Foundation
import XCTest
import Mechanic

/// The product surface end to end through the binary, on the embedded reference model: discover
/// records a run, `db` reads it, `export` draws it, a killed run resumes, and the notebooks execute
/// against the store made here.
final class StoreWorkflowTests: XCTestCase {
    static let repository = CLITests.repository
    static let model = repository.appendingPathComponent("artifacts/models/mechanic-mini").path

    var dir: URL!
    var db: String { dir.appendingPathComponent("results.sqlite").path }

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: Self.model + "/model.safetensors") else {
            throw XCTSkip("the embedded reference model is not at \(Self.model)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-workflow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func mechanic(_ arguments: [String]) throws -> CLITests.Result {
        try runMechanic(arguments)
    }

    /// A quick discover on the embedded model and IOI, recorded in `db`.
    func discover(_ extra: [String] = []) throws -> CLITests.Result {
        try mechanic(["discover", "--model", Self.model, "--task", "ioi", "--count", "40", "--patching-prompts", "6", "--sae-epochs", "100",
                      "--methods", "attribution,sae,patching", "--db", db] + extra)
    }

    func testDiscoverRecordsARunThatDbShowsAndExportDraws() throws {
        let run = try discover(["--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("recorded as run 1"), run.stderr)
        let printed = try JSONDecoder().decode(DiscoveryReport.self, from: Data(run.stdout.utf8))

        // The store holds what was printed.
        let store = try ResultStore(path: db, readOnly: true)
        XCTAssertEqual(try store.report(run: 1), printed)
        XCTAssertEqual(try store.run(1)?.status, .completed)
        XCTAssertEqual(try store.run(1)?.info.modelChecksum,
                       try FileChecksum.sha256(path: Self.model + "/model.safetensors"))

        let runs = try mechanic(["db", "runs", "--db", db, "--json"])
        XCTAssertEqual(runs.status, 0, runs.stderr)
        let listed = try JSONDecoder().decode(QueryResult.self, from: Data(runs.stdout.utf8))
        XCTAssertEqual(listed.rows.count, 1)
        XCTAssertEqual(listed.rows[0][listed.columns.firstIndex(of: "task")!], .text("ioi"))

        let show = try mechanic(["db", "show", "1", "--db", db])
        XCTAssertEqual(show.status, 0, show.stderr)
        for text in ["status: completed", "task: ioi", "patching-resample", "ground truth (3 heads)"] {
            XCTAssertTrue(show.stdout.contains(text), text)
        }
        let query = try mechanic(["db", "query", "--db", db, "--csv", "SELECT method, count(*) FROM head_scores GROUP BY method ORDER BY method"])
        XCTAssertEqual(query.stdout, "method,count(*)\nattribution,32\npatching-resample,32\nsae,32\n")
        let write = try mechanic(["db", "query", "--db", db, "DROP TABLE runs"])
        XCTAssertNotEqual(write.status, 0)
        XCTAssertTrue(write.stderr.contains("only reads"), write.stderr)

        // Every export format, from the stored run.
        for format in ["dot", "svg", "png", "pdf", "json"] {
            let out = dir.appendingPathComponent("circuit.\(format)").path
            let export = try mechanic(["export", "1", "--db", db, "--method", "patching-resample", "--format", format, "--out", out])
            XCTAssertEqual(export.status, 0, export.stderr)
            let data = try Data(contentsOf: URL(fileURLWithPath: out))
            switch format {
            case "png": XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            case "pdf": XCTAssertEqual(String(decoding: data.prefix(5), as: UTF8.self), "%PDF-")
            case "json":
                let circuit = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
                XCTAssertEqual((circuit["heads"] as? [Any])?.count, 3)
            default:
                let text = String(decoding: data, as: UTF8.self)
                // The drawn circuit is patching's top three heads.
                let top = CircuitEvaluation.topHeads(scores: printed.methods[2].scores.scores, heads: printed.methods[2].scores.heads, k: 3)
                for head in top { XCTAssertTrue(text.contains(head.description), "\(format) lacks \(head)") }
            }
        }
        let missing = try mechanic(["export", "7", "--db", db])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no run 7"), missing.stderr)
        let unknown = try mechanic(["export", "1", "--db", db, "--method", "acdc"])
        XCTAssertTrue(unknown.stderr.contains("has no method \"acdc\""), unknown.stderr)
    }

    /// Export writes through a symbolic link to its target and into a named pipe as it is, instead of
    /// renaming a regular file over them (which made `--out /dev/null` replace the device, as root);
    /// a folder is refused with one line.
    func testExportNeverReplacesLinksPipesOrFolders() throws {
        XCTAssertEqual(try discover().status, 0)
        let real = dir.appendingPathComponent("real.dot"), link = dir.appendingPathComponent("link.dot")
        try Data("old".utf8).write(to: real)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        let viaLink = try mechanic(["export", "1", "--db", db, "--format", "dot", "--out", link.path])
        XCTAssertEqual(viaLink.status, 0, viaLink.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link.path), real.path)
        XCTAssertTrue(String(decoding: try Data(contentsOf: real), as: UTF8.self).hasPrefix("digraph"))

        let fifo = dir.appendingPathComponent("pipe.dot").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        final class Box: @unchecked Sendable { var data = Data() }
        let received = Box()
        let reader = DispatchGroup()
        reader.enter()
        DispatchQueue.global().async {
            received.data = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()
            reader.leave()
        }
        let viaPipe = try mechanic(["export", "1", "--db", db, "--format", "dot", "--out", fifo])
        XCTAssertEqual(viaPipe.status, 0, viaPipe.stderr)
        if reader.wait(timeout: .now() + 30) == .timedOut {
            // Nothing wrote into the pipe (it was replaced): unblock the reader and fail.
            FileHandle(forWritingAtPath: fifo)?.closeFile()
            XCTFail("export did not write into the named pipe")
        }
        XCTAssertTrue(String(decoding: received.data, as: UTF8.self).hasPrefix("digraph"))
        var status = stat()
        XCTAssertEqual(stat(fifo, &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFIFO, "the pipe was replaced by a regular file")

        let folder = try mechanic(["export", "1", "--db", db, "--format", "dot", "--out", dir.path])
        XCTAssertNotEqual(folder.status, 0)
        XCTAssertTrue(folder.stderr.contains("it is a folder"), folder.stderr)
        XCTAssertEqual(folder.stderr.split(separator: "\n").count, 1, folder.stderr)
    }

    func testAKilledDiscoverRunResumesWithTheMethodsItLacks() throws {
        let binary = Bundle.main.bundleURL.appendingPathComponent("mechanic")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["discover", "--model", Self.model, "--task", "ioi", "--count", "40", "--patching-prompts", "6",
                             "--methods", "attribution,sae,patching", "--sae-epochs", "100000", "--db", db]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the first method is stored (the SAE then trains for a long time), then kill.
        var stored = 0
        let deadline = Date().addingTimeInterval(120)
        while stored == 0 && Date() < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.2)
            if FileManager.default.fileExists(atPath: db), let store = try? ResultStore(path: db, readOnly: true) {
                stored = (try? store.completedMethods(run: 1).count) ?? 0
            }
        }
        XCTAssertTrue(process.isRunning, "discover ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(stored, 1)

        // The store is consistent: the run is recorded running until a writer marks it interrupted,
        // and the read-only `db runs` already shows it as interrupted, since its process is gone.
        let before = try ResultStore(path: db, readOnly: true)
        XCTAssertEqual(try before.completedMethods(run: 1), ["attribution"])
        XCTAssertEqual(try before.run(1)?.status, .running)
        let runs = try mechanic(["db", "runs", "--db", db])
        XCTAssertTrue(runs.stdout.contains("interrupted"), runs.stdout)
        XCTAssertFalse(runs.stdout.contains("running"), runs.stdout)
        XCTAssertEqual(try before.run(1)?.status, .running, "reading changed nothing")

        let resumed = try discover(["--resume", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming run 1: attribution already done"), resumed.stderr)
        let store = try ResultStore(path: db, readOnly: true)
        XCTAssertEqual(try store.run(1)?.status, .completed)
        XCTAssertEqual(Set(try store.completedMethods(run: 1)), ["attribution", "sae", "patching-resample"])
        XCTAssertEqual(try store.runs().count, 1)

        // Resuming with another task is refused rather than mixing results.
        let wrong = try discover(["--resume", "1", "--task", "induction"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("give the same --model and --task"), wrong.stderr)
    }

    /// The library tour (Sources/MechanicExample) runs start to end and leaves what it says it does.
    func testTheLibraryExampleRuns() throws {
        let binary = Bundle.main.bundleURL.appendingPathComponent("MechanicExample")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("MechanicExample not built at \(binary.path)") }
        let process = Process()
        process.executableURL = binary
        process.arguments = [Self.model, db, dir.path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, printed)
        XCTAssertTrue(printed.contains("patching-resample: ROC AUC"), printed)
        XCTAssertTrue(printed.contains("stored as run 1"), printed)
        let dot = try String(contentsOf: dir.appendingPathComponent("example-circuit.dot"), encoding: .utf8)
        XCTAssertTrue(dot.hasPrefix("digraph circuit {"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("example-circuit.svg").path))
        let store = try ResultStore(path: db, readOnly: true)
        XCTAssertEqual(try store.run(1)?.status, .completed)
        XCTAssertEqual(try store.completedMethods(run: 1).sorted(), ["patching-resample", "sae"])
    }

    /// Two shards written by separate runs merge into one store; merging again adds nothing.
    func testDbMergeJoinsShardsOnce() throws {
        let shards = ["a", "b"].map { dir.appendingPathComponent("shard-\($0).sqlite").path }
        for (i, shard) in shards.enumerated() {
            let sinks = try mechanic(["sinks", "--model", Self.model, "--task", "ioi", "--count", "4", "--seed", "\(i)",
                                      "--out", dir.appendingPathComponent("sinks-\(i)").path, "--db", shard])
            XCTAssertEqual(sinks.status, 0, sinks.stderr)
        }
        let merged = dir.appendingPathComponent("merged.sqlite").path
        let first = try mechanic(["db", "merge"] + shards + ["--into", merged])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("1 of 1 finished runs merged, 0 already there"), first.stdout)
        let again = try mechanic(["db", "merge"] + shards + ["--into", merged, "--json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let summaries = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(summaries.map { $0["duplicates"] as? Int }, [1, 1])
        let runs = try mechanic(["db", "query", "SELECT count(*) FROM sink_analyses", "--db", merged, "--csv"])
        XCTAssertTrue(runs.stdout.contains("2"), runs.stdout)
        let itself = try mechanic(["db", "merge", merged, "--into", merged])
        XCTAssertNotEqual(itself.status, 0)
        XCTAssertTrue(itself.stderr.contains("is the target itself"), itself.stderr)
    }

    /// Run from any folder, the default model is still found (beside the binary or in its repository).
    func testTheEmbeddedModelIsFoundFromAnyWorkingDirectory() throws {
        let result = try runMechanic(["discover", "--count", "6", "--methods", "attribution", "--patching-prompts", "2", "--no-db"],
                                     directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("attribution"), result.stdout)
    }

    /// The embedded default is a reference model with MLPs (issue 11 asks for one), and with no
    /// arguments discover scores induction against that model's role-based circuit.
    func testTheDefaultIsTheMLPModelsInductionCircuit() throws {
        let folder = Self.repository.appendingPathComponent("artifacts/models/mechanic-v2-drill-constant-narrow")
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertNil(config["attn_only"], "the default has MLPs")
        XCTAssertEqual(config["n_inner"] as? Int, 128)
        let result = try runMechanic(["discover", "--count", "8", "--methods", "attribution", "--patching-prompts", "2", "--no-db", "--json"],
                                     directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["task"] as? String, "induction-random")
        let truth = try GroundTruthFile.heads(folder.appendingPathComponent("circuits/induction-random.json").path)
        let reported = try XCTUnwrap(report["groundTruth"] as? [[String: Int]]).map { HeadID(layer: $0["layer"]!, head: $0["head"]!) }
        XCTAssertEqual(Set(reported), truth)
        XCTAssertEqual(reported.count, 7)
    }

    /// A NaN score (a head whose metric was undefined) is written to a JSON file as "nan", not a failed write.
    func testJSONFilesCarryNonFiniteScoresAsStrings() throws {
        let store = try ResultStore(path: db)
        let run = try store.beginRun(RunInfo(command: "discover", version: "test"))
        let heads = HeadID.all(layers: 1, heads: 2)
        try store.record(report: DiscoveryReport(task: "ioi", metric: .logitDifference, positives: 2, negatives: 2,
                                                 groundTruth: [heads[1]],
                                                 methods: [.init(scores: HeadScores(method: "patching-resample", heads: heads,
                                                                                    scores: [.nan, 1], seconds: 0))]), run: run)
        try store.finishRun(run, status: .completed)
        let out = dir.appendingPathComponent("circuit.json")
        let export = try mechanic(["export", "\(run)", "--db", db, "--format", "json", "--out", out.path])
        XCTAssertEqual(export.status, 0, export.stderr)
        let text = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue(text.contains("\"nan\""), text)
    }

    func testBadDatabaseFilesAreOneClearLine() throws {
        let corrupt = dir.appendingPathComponent("corrupt.sqlite").path
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: corrupt))
        for arguments in [["db", "runs", "--db", corrupt],
                          ["discover", "--model", Self.model, "--task", "ioi", "--count", "4", "--methods", "attribution", "--db", corrupt]] {
            let result = try mechanic(arguments)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("not a SQLite database"), result.stderr)
            XCTAssertFalse(result.stderr.contains("Fatal error"))
        }
        let notThere = try mechanic(["db", "show", "1", "--db", dir.appendingPathComponent("none.sqlite").path])
        XCTAssertNotEqual(notThere.status, 0)
        XCTAssertTrue(notThere.stderr.contains("does not exist"), notThere.stderr)
    }

    /// CI installs the notebooks' Python packages, so there a notebook that fails is a failure;
    /// elsewhere the test skips when Jupyter is missing.
    func testNotebooksRunAgainstAStoreMadeInThisRun() throws {
        guard let python = Self.which("python3"), Self.succeeds(python, ["-c", "import nbconvert, ipykernel, pandas, matplotlib"]) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("the notebooks' packages are missing on CI; .ci/run installs them") }
            throw XCTSkip("nbconvert, ipykernel, pandas or matplotlib missing (pip install pandas matplotlib nbconvert ipykernel)")
        }
        XCTAssertEqual(try discover().status, 0)
        let edges = try mechanic(["discover", "--level", "edges", "--model", Self.model, "--task", "ioi", "--count", "20", "--patching-prompts", "3",
                                  "--methods", "eap", "--db", db])
        XCTAssertEqual(edges.status, 0, edges.stderr)
        let sinks = try mechanic(["sinks", "--model", Self.model, "--task", "ioi", "--count", "8",
                                  "--out", dir.appendingPathComponent("sinks").path, "--db", db])
        XCTAssertEqual(sinks.status, 0, sinks.stderr)
        for notebook in ["circuits", "sinks"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=300",
                                 "--output-dir", dir.path, Self.repository.appendingPathComponent("notebooks/\(notebook).ipynb").path]
            process.currentDirectoryURL = Self.repository.appendingPathComponent("notebooks")
            var environment = ProcessInfo.processInfo.environment
            environment["MECHANIC_DB"] = db
            environment["MECHANIC_FIGURES"] = dir.appendingPathComponent("figures").path
            process.environment = environment
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let messages = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "\(notebook).ipynb failed:\n\(messages.suffix(3000))")
        }
        for figure in ["roc-curves.png", "head-scores.png", "sinks.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("figures/\(figure)").path), figure)
        }
    }

    static func succeeds(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    static func which(_ tool: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(folder)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// Edge-level discovery through the binary: discover stores scores and curves, evaluate shows them
/// (and recomputes them under another ablation), export draws q/k/v edges and writes MIB files.
final class EdgeWorkflowTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("results.sqlite").path }

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: StoreWorkflowTests.model + "/model.safetensors") else {
            throw XCTSkip("the embedded reference model is not at \(StoreWorkflowTests.model)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edge-workflow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func testEdgeDiscoveryIsStoredEvaluatedAndDrawn() throws {
        let mib = dir.appendingPathComponent("mib").path
        let run = try runMechanic(["discover", "--level", "edges", "--model", StoreWorkflowTests.model, "--task", "ioi", "--count", "20",
                                   "--patching-prompts", "3", "--methods", "eap,eap-ig", "--ig-steps", "2", "--db", db,
                                   "--mib-out", mib, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let printed = try JSONDecoder().decode(EdgeDiscoveryReport.self, from: Data(run.stdout.utf8))
        XCTAssertEqual(printed.methods.map(\.method), ["eap", "eap-ig"])
        XCTAssertEqual(printed.graph.edges.count, 1519)
        let stored = try XCTUnwrap(try ResultStore(path: db, readOnly: true).edgeReport(run: 1))
        XCTAssertEqual(stored.methods.map(\.scores), printed.methods.map(\.scores))
        XCTAssertEqual(stored.methods.map { $0.curve?.faithfulness }, printed.methods.map { $0.curve?.faithfulness })

        let evaluate = try runMechanic(["evaluate", "1", "--db", db, "--json"])
        XCTAssertEqual(evaluate.status, 0, evaluate.stderr)
        let curves = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(curves.count, 2)
        XCTAssertEqual(curves[0]["cpr"] as? Double ?? .nan, printed.methods[0].curve!.cpr(), accuracy: 1e-9)
        let table = try runMechanic(["evaluate", "1", "--db", db, "--ablation", "zero"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("zero"), table.stdout)
        // Greedy circuits are recomputed, say so, and still reach the full model at 100%.
        let greedy = try runMechanic(["evaluate", "1", "--db", db, "--selection", "greedy", "--json"])
        XCTAssertEqual(greedy.status, 0, greedy.stderr)
        let greedyCurves = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(greedy.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(greedyCurves.map { $0["selection"] as? String }, ["greedy", "greedy"])
        let greedyF = try XCTUnwrap((greedyCurves[0]["curve"] as? [String: Any])?["faithfulness"] as? [Double])
        XCTAssertEqual(greedyF.last ?? .nan, 1, accuracy: 1e-3)
        XCTAssertNotEqual(try runMechanic(["evaluate", "1", "--db", db, "--selection", "best"]).status, 0)
        // Edge AUC against an edge-level ground truth given as edge names.
        let truthFile = dir.appendingPathComponent("truth.txt").path
        try "# two edges\ninput->a0.h0<q>\na3.h6->logits\n".write(toFile: truthFile, atomically: true, encoding: .utf8)
        let scoredAgainstTruth = try runMechanic(["evaluate", "1", "--db", db, "--edge-truth", truthFile, "--json"])
        XCTAssertEqual(scoredAgainstTruth.status, 0, scoredAgainstTruth.stderr)
        let withAUC = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(scoredAgainstTruth.stdout.utf8)) as? [[String: Any]])
        for entry in withAUC {
            let auc = try XCTUnwrap(entry["edgeAUC"] as? Double)
            XCTAssertTrue((0...1).contains(auc), "\(auc)")
        }
        try "input->a0.h0<q>\na99.h0->logits\n".write(toFile: truthFile, atomically: true, encoding: .utf8)
        let badTruth = try runMechanic(["evaluate", "1", "--db", db, "--edge-truth", truthFile])
        XCTAssertNotEqual(badTruth.status, 0)
        XCTAssertTrue(badTruth.stderr.contains("line 2"), badTruth.stderr)

        // The MIB file evaluates to the same curve on the same prompts.
        let file = try runMechanic(["evaluate", "--graph", mib + "/eap.json", "--model", StoreWorkflowTests.model, "--task", "ioi", "--prompts", "3",
                                    "--count", "20", "--json"])
        XCTAssertEqual(file.status, 0, file.stderr)

        let dot = try runMechanic(["export", "1", "--db", db, "--level", "edges", "--method", "eap", "--edges", "25", "--format", "dot", "--out", "-"])
        XCTAssertEqual(dot.status, 0, dot.stderr)
        XCTAssertTrue(dot.stdout.hasPrefix("digraph edges"), dot.stdout)
        XCTAssertTrue(dot.stdout.contains("\"logits\""))
        let json = dir.appendingPathComponent("circuit.json").path
        XCTAssertEqual(try runMechanic(["export", "1", "--db", db, "--level", "edges", "--format", "json", "--out", json]).status, 0)
        let graph = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let edges = try XCTUnwrap(graph?["edges"] as? [String: [String: Any]])
        XCTAssertEqual(edges.count, 1519)
        XCTAssertGreaterThan(edges.values.filter { $0["in_graph"] as? Bool == true }.count, 0)

        // Clear refusals.
        let mixed = try runMechanic(["discover", "--methods", "eap", "--no-db"])
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(mixed.stderr.contains("--level edges"), mixed.stderr)
        let headsOnly = try runMechanic(["evaluate", "7", "--db", db])
        XCTAssertTrue(headsOnly.stderr.contains("no run 7"), headsOnly.stderr)
    }
}
