import ArgumentParser
import Foundation
import Mechanic

/// `mechanic sae`: the discrete sparse autoencoder of the SAE method on its own.
struct SAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sae",
        abstract: "Train the discrete SAE on a model's head outputs and save it.",
        subcommands: [Train.self, Capture.self]
    )

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train one SAE shared by all heads on a task's head outputs; save it as a folder.",
            discussion: """
            Captures every head's output (hook_result, averaged over positions, or at the last token) \
            on the first --prompts task prompts (half positive, half negative), trains the SAE \
            (MSE + λ·L1, Adam, full batch, unit-norm weights with projected gradients, zero-started \
            pre-bias; the defaults are the reference code's), \
            and writes config.json + weights.safetensors to --out. The run and the SAE's settings are \
            recorded in the results database. `mechanic discover` trains its own SAE the same way, on \
            --sae-prompts prompts drawn at random from all of its prompts, as the reference code does.

            Examples:
              mechanic sae train --out saes/induction
              mechanic sae train --model artifacts/models/mechanic-attn-only-4l --task docstring --l1 0.05 --out saes/attn-docstring
              mechanic sae train --top-k 4 --hidden 100 --epochs 1000 --out saes/topk --json
            """)

        @Option(name: .shortAndLong, help: ArgumentHelp("Model folder (default: the embedded reference model).", valueName: "folder"))
        var model = DiscoverCommand.defaultModel
        @Option(help: "Task: \(TaskRegistry.names.joined(separator: ", ")), or a .json/.jsonl file of prompts.") var task = DiscoverCommand.defaultTask
        @Option(help: "Prompts whose head outputs train the SAE (half positives, half negatives).") var prompts = 10
        @Option(help: "Hidden units (the code alphabet).") var hidden = 200
        @Option(help: "L1 coefficient λ (default: the task's reference value, 0.02; docstring 0.05).") var l1: Float?
        @Option(name: .customLong("learning-rate"), help: "Adam learning rate.") var learningRate: Float = 1e-3
        @Option(help: "Full-batch epochs.") var epochs = 500
        @Option(name: .customLong("top-k"), help: "Keep only the k largest activations (the top-k variant) instead of ReLU alone.") var topK: Int?
        @Flag(name: .customLong("last-position"), help: "Use each head's output at the last token instead of its mean over positions.")
        var lastPosition = false
        @Flag(help: "Scale each head output to unit length before training (not in the reference protocol).") var normalize = false
        @Option(name: .customLong("pre-bias"), help: ArgumentHelp("Starting pre-encoder bias: zero (the reference) or training-mean.", valueName: "start"))
        var preBias: SAEConfiguration.PreBiasStart = .zero
        @Option(help: "Seed of the prompts and the SAE's initial weights.") var seed: UInt64 = 0
        @Option(help: ArgumentHelp("Folder to save the SAE in (config.json, weights.safetensors).", valueName: "folder")) var out: String
        @Flag(help: "Print JSON (configuration, first and final loss, save folder).") var json = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var weights: WeightOptions
        @OptionGroup var threads: ThreadOptions

        struct Summary: Codable {
            var configuration: SAEConfiguration
            var trainingRows: Int
            var firstLoss: Float?
            var finalLoss: Float?
            var mse: Float
            var l1: Float
            var folder: String
            var run: Int64?
        }

        func validate() throws {
            try OptionLimits.check(prompts, 2...OptionLimits.prompts, "--prompts")
            try OptionLimits.check(hidden, 1...OptionLimits.saeHidden, "--hidden", because: "the SAE's size and training time grow with it (the reference uses 200)")
            try OptionLimits.check(epochs, 0...OptionLimits.epochs, "--epochs", because: "each epoch is a full pass (the reference uses 500)")
            if let l1 { try OptionLimits.check(l1, atLeast: 0, "--l1") }
            try OptionLimits.check(learningRate, atLeast: 0, exclusive: true, "--learning-rate")
            if let topK, topK < 1 || topK > hidden { throw ValidationError("--top-k must be between 1 and --hidden.") }
            if let problem = SAEConfiguration(inputDimension: 1, hiddenUnits: hidden, l1Coefficient: l1 ?? 0.02, learningRate: learningRate,
                                              epochs: epochs).problem() {
                throw ValidationError(problem)
            }
            try validateTask(task)
        }

        func run() throws {
            threads.apply()
            let (folder, loaded, tokenizer) = try loadModelFolder(model, weights)
            let source = try circuitTask(task)
            let dataset = try source.dataset(tokenizer: tokenizer, count: prompts, seed: seed, prependBOS: true).keepingCorrect(model: loaded)
            let reduction: HeadOutputs.Reduction = lastPosition ? .position(-1) : .meanOverPositions
            let half = max(1, prompts / 2)
            var positive = try HeadOutputs.capture(model: loaded, prompts: dataset.positives.prefix(half).map(\.tokens), reduction: reduction)
            var negative = try HeadOutputs.capture(model: loaded, prompts: dataset.negatives.prefix(prompts - half).map(\.tokens), reduction: reduction)
            if normalize {
                HeadOutputs.normalize(&positive)
                HeadOutputs.normalize(&negative)
            }
            let rows = SAEScoring.trainingRows(positive: positive, negative: negative, prompts: prompts, draw: .firstOfEachSide)
            let configuration = SAEConfiguration(inputDimension: loaded.config.dModel, hiddenUnits: hidden,
                                                 activation: topK.map { .topK($0) } ?? .relu, l1Coefficient: l1 ?? source.saeL1,
                                                 learningRate: learningRate, epochs: epochs, seed: seed, preBiasStart: preBias)
            let recorded = try store.open().map { try RecordedRun.begin(store: $0, command: "sae train", seed: seed, model: folder) }
            let outFolder = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
            let work = { () throws -> Summary in
                var bar = ProgressBar(total: epochs, label: "sae")
                let (sae, losses) = try SparseAutoencoder.train(on: rows, configuration: configuration) { epoch, loss in
                    if !json { bar.update(epoch, status: String(format: "loss %.5f", loss)) }
                    return true
                }
                try sae.save(to: outFolder)
                let (mse, l1Loss) = try sae.losses(rows)
                if let recorded {
                    try recorded.store.record(sae: configuration, name: outFolder.lastPathComponent,
                                              trainingPrompts: rows.shape[0] / (loaded.config.layers * loaded.config.heads),
                                              finalLoss: losses.last, run: recorded.id)
                }
                return Summary(configuration: configuration, trainingRows: rows.shape[0], firstLoss: losses.first, finalLoss: losses.last,
                               mse: mse, l1: l1Loss, folder: outFolder.path, run: recorded?.id)
            }
            let summary = try recorded.map { try $0.finishing(work) } ?? work()
            if json { return try printJSON(summary) }
            print(String(format: "trained on %d rows (%d prompts × %d heads); loss %.5f → %.5f (MSE %.5f, L1 %.4f)",
                         summary.trainingRows, summary.trainingRows / (loaded.config.layers * loaded.config.heads),
                         loaded.config.layers * loaded.config.heads, summary.firstLoss ?? .nan, summary.finalLoss ?? .nan, summary.mse, summary.l1))
            print("saved to \(outFolder.path)" + (recorded.map { "; recorded as run \($0.id) in \($0.store.path)" } ?? ""))
        }
    }
}
