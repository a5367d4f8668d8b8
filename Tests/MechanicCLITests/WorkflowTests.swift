import Foundation
import XCTest
import Mechanic

/// The researcher's workflow end to end through the binary: train a toy model, write its card,
/// discover a circuit against a ground truth, report sinks.
final class WorkflowTests: XCTestCase {
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Bundle.main.bundleURL.appendingPathComponent("mechanic")
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// `--seed` changes the weights the recipe starts from and is recorded in recipe.json; the
    /// corpus keeps the recipe's seed.
    func testTrainSeedOverridesTheRecipesTrainingSeed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var weights: [[Float]] = []
        for (name, seed) in [("default", nil), ("seeded", "5")] as [(String, String?)] {
            let folder = dir.appendingPathComponent(name)
            let train = try run(["train", "--recipe", "smoke", "--out", folder.path] + (seed.map { ["--seed", $0] } ?? []))
            XCTAssertEqual(train.status, 0, train.stderr)
            let recipe = try JSONDecoder().decode(ReferenceRecipe.self, from: Data(contentsOf: folder.appendingPathComponent("recipe.json")))
            XCTAssertEqual(recipe.settings.seed, seed.flatMap { UInt64($0) } ?? ReferenceRecipe.smoke.settings.seed)
            XCTAssertEqual(recipe.corpusSeed, ReferenceRecipe.smoke.corpusSeed)
            let file = try SafetensorsFile(path: folder.appendingPathComponent("model.safetensors").path)
            weights.append(try file.tensor("transformer.h.0.attn.c_attn.weight").storage)
        }
        XCTAssertNotEqual(weights[0], weights[1])
    }

    func testTrainMLPWidthOverridesNInnerAndIsRecorded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("width-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try run(["train", "--recipe", "smoke", "--out", dir.path, "--mlp-width", "8"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let recipe = try JSONDecoder().decode(ReferenceRecipe.self, from: Data(contentsOf: dir.appendingPathComponent("recipe.json")))
        XCTAssertEqual(recipe.mlpWidth, 8)
        XCTAssertEqual(try CheckpointLoader.loadConfig(folder: dir).dMLP, 8)
        let file = try SafetensorsFile(path: dir.appendingPathComponent("model.safetensors").path)
        XCTAssertEqual(try file.tensor("transformer.h.0.mlp.c_fc.weight").shape, [ReferenceRecipe.smoke.dModel, 8])
        for (args, message) in [(["--recipe", "smoke", "--mlp-width", "0"], "--mlp-width must be 1…65536"),
                                (["--recipe", "mechanic-attn-only-4l", "--mlp-width", "64"], "attention-only")] {
            let bad = try run(["train", "--out", dir.appendingPathComponent("bad").path] + args)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.stderr.contains(message), bad.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
        }
    }

    /// --resume with other options than the run started with refuses before touching the folder
    /// (the checkpoint fixes the weights; the options would only mislabel its recipe.json).
    func testResumeWithOtherOptionsRefusesAndKeepsTheRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try run(["train", "--recipe", "smoke", "--out", dir.path, "--mlp-width", "8", "--seed", "5"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let recipeURL = dir.appendingPathComponent("recipe.json"), stateURL = dir.appendingPathComponent("training-state.json")
        let (recipe, state) = (try Data(contentsOf: recipeURL), try Data(contentsOf: stateURL))
        for (args, hint) in [([] as [String], "--mlp-width 8"), (["--mlp-width", "8"], "--seed 5"), (["--mlp-width", "16", "--seed", "5"], "--mlp-width 8")] {
            let again = try run(["train", "--recipe", "smoke", "--out", dir.path, "--resume"] + args)
            XCTAssertNotEqual(again.status, 0, "\(args)")
            XCTAssertTrue(again.stderr.contains(hint), again.stderr)
            XCTAssertEqual(try Data(contentsOf: recipeURL), recipe)
            XCTAssertEqual(try Data(contentsOf: stateURL), state)
        }
        let same = try run(["train", "--recipe", "smoke", "--out", dir.path, "--resume", "--mlp-width", "8", "--seed", "5"])
        XCTAssertEqual(same.status, 0, same.stderr)
    }

    func testTrainDiscoverAndSinksOnAToyModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("workflow-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("toy").path

        let train = try run(["train", "--recipe", "smoke", "--out", model])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("20 steps"))
        // A second run into the same folder refuses instead of overwriting it.
        let again = try run(["train", "--recipe", "smoke", "--out", model])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--resume"))

        let list = try run(["tasks", "list"])
        XCTAssertEqual(list.status, 0)
        for task in ["ioi", "greater-than", "docstring", "induction"] { XCTAssertTrue(list.stdout.contains(task)) }

        // A hand-written ground truth, and every method scored against it.
        let truth = dir.appendingPathComponent("truth.json")
        try #"{"heads": [[1, 0], [1, 1]]}"#.write(to: truth, atomically: true, encoding: .utf8)
        let discover = try run(["discover", "--model", model, "--task", "greater-than", "--count", "20", "--sae-epochs", "30",
                                "--patching-prompts", "4", "--ground-truth", truth.path, "--json", "--no-db"])
        XCTAssertEqual(discover.status, 0, discover.stderr)
        let report = try JSONDecoder().decode(DiscoveryReport.self, from: Data(discover.stdout.utf8))
        XCTAssertEqual(report.methods.map(\.scores.method),
                       ["sae", "sae-edges", "sae-z", "patching-resample", "attribution", "hisp", "acdc-kl"])
        XCTAssertEqual(report.groundTruth, [HeadID(layer: 1, head: 0), HeadID(layer: 1, head: 1)])
        XCTAssertTrue(report.methods.allSatisfy { $0.auc != nil && $0.scores.scores.count == 4 })
        // Every SAE method carries its label-permutation control, with the AUC under shuffled labels.
        for method in report.methods where method.scores.method.hasPrefix("sae") {
            let control = try XCTUnwrap(method.control, method.scores.method)
            XCTAssertEqual(control.permutations, 200)
            XCTAssertEqual(control.heads.count, 4)
            XCTAssertNotNil(control.shuffledAUC)
        }
        XCTAssertTrue(report.methods.filter { !$0.scores.method.hasPrefix("sae") }.allSatisfy { $0.control == nil })

        let sinks = try run(["sinks", "--model", model, "--task", "induction", "--count", "8", "--out", dir.appendingPathComponent("sinks").path, "--no-db"])
        XCTAssertEqual(sinks.status, 0, sinks.stderr)
        for file in ["report.md", "report.json", "first-token-mass.svg", "hidden-sinks.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("sinks/\(file)").path), file)
        }

        let bad = try run(["discover", "--model", model, "--task", "nonsense"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown task"))
        let noModel = try run(["discover", "--model", dir.appendingPathComponent("missing").path])
        XCTAssertNotEqual(noModel.status, 0)
        XCTAssertTrue(noModel.stderr.contains("not a model folder"))

        // `sae capture` writes exactly the vectors the SAE method codes, bit for bit when both use the
        // same BLAS kernels (the binary would otherwise pick the CPU's own where OpenBLAS fell back
        // to generic ones, see BLASCore; this process keeps OpenBLAS's choice).
        let captured = dir.appendingPathComponent("capture.safetensors")
        let capture = try run(["sae", "capture", "--model", model, "--task", "induction", "--count", "6", "--out", captured.path],
                              environment: ["OPENBLAS_CORETYPE": BLASCore.current])
        XCTAssertEqual(capture.status, 0, capture.stderr)
        let file = try SafetensorsFile(path: captured.path)
        let loaded = try CheckpointLoader.load(folder: URL(fileURLWithPath: model))
        let dataset = try InductionTask().dataset(tokenizer: try GPT2Tokenizer(folder: URL(fileURLWithPath: model)), count: 6, seed: 0,
                                                  prependBOS: true).keepingCorrect(model: loaded)
        let heads = loaded.config.layers * loaded.config.heads
        for (name, prompts) in [("positive", dataset.positives), ("negative", dataset.negatives)] {
            let tensor = try file.tensor(name)
            XCTAssertEqual(tensor.shape, [prompts.count, heads, loaded.config.dModel], name)
            XCTAssertEqual(tensor, try HeadOutputs.capture(model: loaded, prompts: prompts.map(\.tokens)), name)
        }
        XCTAssertEqual(file.metadata["heads"]?.split(separator: ",").first, "a0.0")
        XCTAssertEqual(file.metadata["reduction"], "mean-over-positions")
        let badTask = try run(["sae", "capture", "--model", model, "--task", "nonsense", "--out", captured.path])
        XCTAssertNotEqual(badTask.status, 0)
        XCTAssertTrue(badTask.stderr.contains("unknown task"))
        let noFolder = try run(["sae", "capture", "--model", model, "--out", dir.appendingPathComponent("missing/x.safetensors").path])
        XCTAssertNotEqual(noFolder.status, 0)
        XCTAssertTrue(noFolder.stderr.contains("does not exist"), noFolder.stderr)
    }
}
