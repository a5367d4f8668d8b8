import ArgumentParser
import Foundation
import Mechanic

extension SAECommand {
    /// `mechanic sae capture`: the SAE's input, written for analysis elsewhere (numpy, PyTorch).
    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every head's output on a task's positive and negative prompts to a safetensors file.",
            discussion: """
            Captures the vectors the SAE method codes: each head's hook_result averaged over positions \
            (or at the last token) on the task's positives (prompts the model gets right) and \
            negatives. The file holds `positive` and `negative`, float32 [prompts, layers · heads, \
            d_model] with heads in layer-major order (a{l}.{h} is index l · heads + h), and metadata \
            naming the model, task, seed, reduction and heads. Load it with \
            safetensors.numpy.load_file or safetensors.torch.load_file.

            Examples:
              mechanic sae capture --out induction-heads.safetensors
              mechanic sae capture --model artifacts/models/mechanic-attn-only-4l --task docstring --count 500 --last-position --out doc.safetensors
            """)

        @Option(name: .shortAndLong, help: ArgumentHelp("Model folder (default: the embedded reference model).", valueName: "folder"))
        var model = DiscoverCommand.defaultModel
        @Option(help: "Task: \(TaskRegistry.names.joined(separator: ", ")), or a .json/.jsonl file of prompts.") var task = DiscoverCommand.defaultTask
        @Option(help: "Positive and negative prompts each (before dropping positives the model gets wrong).") var count = 250
        @Flag(name: .customLong("last-position"), help: "Use each head's output at the last token instead of its mean over positions.")
        var lastPosition = false
        @Option(help: "Seed of the prompts.") var seed: UInt64 = 0
        @Option(help: ArgumentHelp("File to write (.safetensors).", valueName: "file")) var out: String
        @OptionGroup var weights: WeightOptions
        @OptionGroup var threads: ThreadOptions

        func validate() throws {
            try OptionLimits.check(count, 1...OptionLimits.prompts, "--count")
            let parent = URL(fileURLWithPath: (out as NSString).expandingTildeInPath).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder) || !isFolder.boolValue {
                throw ValidationError("--out: the folder \(parent) does not exist.")
            }
            try validateTask(task)
        }

        func run() throws {
            threads.apply()
            let (folder, loaded, tokenizer) = try loadModelFolder(model, weights)
            let source = try circuitTask(task)
            let dataset = try source.dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: true).keepingCorrect(model: loaded)
            guard !dataset.positives.isEmpty else {
                throw CLIError("the model gets none of the \(dataset.task) prompts right, so there are no positives to capture")
            }
            guard !dataset.negatives.isEmpty else { throw CLIError("the \(dataset.task) task has no negative prompts to capture") }
            var bar = ProgressBar(total: dataset.positives.count + dataset.negatives.count, label: "capture")
            let options = SAEScoring.Options(sae: SAEConfiguration(inputDimension: loaded.config.dModel), meanOverPositions: !lastPosition)
            let (positive, negative) = try SAEScoring.capture(model: loaded, dataset: dataset, options: options) { bar.update($0) }
            let c = loaded.config
            let heads = HeadID.all(layers: c.layers, heads: c.heads).map(\.description)
            let metadata = ["model": folder.path, "task": dataset.task, "seed": String(seed),
                            "reduction": lastPosition ? "last-position" : "mean-over-positions",
                            "heads": heads.joined(separator: ","), "dropped_positives": String(dataset.droppedPositives)]
            let url = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
            try SafetensorsWriter.write([("positive", positive), ("negative", negative)], metadata: metadata, to: url)
            print("wrote \(dataset.positives.count) positives and \(dataset.negatives.count) negatives × \(heads.count) heads × \(c.dModel) to \(url.path)"
                  + " (\(dataset.droppedPositives) positives dropped: the model got them wrong)")
        }
    }
}
