import ArgumentParser
import Foundation
import Mechanic

/// `mechanic train`: trains one of Mechanic's reference models from its recipe.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a reference model from its recipe (corpus, vocabulary, architecture, settings).",
        discussion: """
        Recipes: \(ReferenceRecipe.all.map(\.name).joined(separator: ", ")). The output folder is an HF \
        snapshot (config.json, model.safetensors, vocab.json, merges.txt) that Mechanic and HF \
        transformers both load, plus training-state.* to resume, loss.csv and recipe.json. \
        Checkpoints are written every few hundred steps; --resume continues an interrupted run exactly.

        Examples:
          swift run -c release mechanic train --recipe mechanic-6l
          swift run -c release mechanic train --recipe mechanic-attn-only-6l --out /tmp/attn --resume
          swift run -c release mechanic train --recipe smoke --out /tmp/smoke
        """
    )

    @Option(help: "Recipe name.")
    var recipe: String

    @Option(help: ArgumentHelp("Output folder (default: artifacts/models/<recipe>).", valueName: "folder"))
    var out: String?

    @Flag(help: "Continue from the checkpoint in the output folder.")
    var resume = false

    @Option(help: "Override the recipe's number of steps (the schedule and any window curriculum are stretched to match).")
    var steps: Int?

    @Option(name: .customLong("learning-rate"), help: "Override the peak learning rate (the floor stays a tenth of it).")
    var learningRate: Float?

    @Option(name: .customLong("training-bytes"), help: "Override the bytes of training text.")
    var trainingBytes: Int?

    @Option(help: "Override the training seed (weight initialisation and batch draws; the corpus keeps the recipe's seed).")
    var seed: UInt64?

    @Option(name: .customLong("mlp-width"),
            help: "Override the width of each MLP's hidden layer (GPT-2's n_inner; default 4 × d_model or the recipe's own).")
    var mlpWidth: Int?

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if let learningRate { try OptionLimits.check(learningRate, atLeast: 0, exclusive: true, "--learning-rate") }
        guard ReferenceRecipe.named(recipe) != nil else {
            throw ValidationError("unknown recipe \"\(recipe)\"; recipes: \(ReferenceRecipe.all.map(\.name).joined(separator: ", ")).")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1.") }
        try OptionLimits.checkMLPWidth(mlpWidth, attentionOnly: ReferenceRecipe.named(recipe)!.attentionOnly, model: recipe)
    }

    func run() throws {
        threads.apply()
        var recipe = ReferenceRecipe.named(self.recipe)!
        if let steps {
            recipe.settings.curriculum = recipe.settings.curriculum?.scaled(by: Double(steps) / Double(recipe.settings.steps))
            recipe.settings.steps = steps
            recipe.settings.schedule.totalSteps = steps
            recipe.settings.schedule.warmupSteps = min(recipe.settings.schedule.warmupSteps, max(1, steps / 10))
        }
        if let learningRate {
            recipe.settings.schedule.peak = learningRate
            recipe.settings.schedule.minimum = learningRate / 10
        }
        if let trainingBytes { recipe.trainingBytes = trainingBytes }
        if let seed { recipe.settings.seed = seed }
        if let mlpWidth { recipe.mlpWidth = mlpWidth }
        let folder = URL(fileURLWithPath: ((out ?? "artifacts/models/\(recipe.name)") as NSString).expandingTildeInPath)
        let stateFile = folder.appendingPathComponent("training-state.json")
        let resuming = resume && FileManager.default.fileExists(atPath: stateFile.path)
        if resuming { try checkSameRecipe(recipe, asRunIn: folder) }
        printError("preparing the corpus of \(recipe.name) (seed \(recipe.corpusSeed), \(recipe.trainingBytes) bytes)…")
        let corpus = try PreparedCorpus(recipe: recipe)
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        var extras = try corpus.writeTokenizer(to: staging)
        let recipeURL = staging.appendingPathComponent("recipe.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = nonFiniteAsStrings
        try encoder.encode(recipe).write(to: recipeURL)
        extras.append(recipeURL)
        let config = recipe.config(vocabularySize: corpus.tokenizer.vocabularySize, eos: corpus.tokenizer.eosID)
        let source = corpus.training.isEmpty ? "generated training rows"
            : "\(corpus.training.count) training tokens" + (corpus.generator == nil ? "" : " and generated copy blocks")
        printError("\(source), \(corpus.heldOut.count) held-out, vocabulary \(config.vocabSize), "
                   + "\(config.parameterCount.formatted()) parameters")

        var trainer: Trainer
        if resuming {
            trainer = try Trainer.resume(folder: folder, data: corpus.trainingData, heldOut: corpus.heldOut)
            printError("resuming at step \(trainer.step) of \(trainer.settings.steps)")
        } else {
            if FileManager.default.fileExists(atPath: stateFile.path) {
                throw CLIError("\(folder.path) already holds a training run; pass --resume to continue it or choose another --out")
            }
            trainer = try Trainer(config: config, settings: recipe.settings, data: corpus.trainingData, heldOut: corpus.heldOut)
        }
        var bar = ProgressBar(total: trainer.settings.steps, label: "train")
        let interval = trainer.settings.checkpointInterval
        while !trainer.isFinished {
            let record = try trainer.trainStep()
            var status = String(format: "loss %.3f lr %.2e %.0f tok/s", record.loss, record.learningRate, record.tokensPerSecond)
            if let window = record.sequenceLength { status += " window \(window)" }
            if let eval = trainer.log.last(where: { $0.evaluationLoss != nil })?.evaluationLoss { status += String(format: " held-out %.3f", eval) }
            bar.update(trainer.step, status: status)
            if (interval > 0 && trainer.step % interval == 0) || trainer.isFinished {
                try writeLossLog(trainer.log, to: staging.appendingPathComponent("loss.csv"))
                try trainer.save(to: folder, extraFiles: extras + [staging.appendingPathComponent("loss.csv")])
            }
        }
        let final = trainer.log.last!
        print(String(format: "%@: %d steps, final loss %.4f, held-out %.4f → %@", recipe.name, trainer.step, final.loss,
                     final.evaluationLoss ?? .nan, folder.path))
    }

    /// step, loss, learning rate, gradient norm, tokens/s, held-out loss: one row per step.
    func writeLossLog(_ log: [TrainingRecord], to url: URL) throws {
        var text = "step,loss,learning_rate,gradient_norm,tokens_per_second,held_out_loss\n"
        for r in log {
            text += "\(r.step),\(r.loss),\(r.learningRate),\(r.gradientNorm),\(String(format: "%.1f", r.tokensPerSecond)),"
            text += r.evaluationLoss.map { "\($0)" } ?? ""
            text += "\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A resumed run keeps the recipe and overrides it started with: the weights and optimizer
    /// state come from the checkpoint, so other options would only make its recipe.json describe a
    /// run that did not happen.
    func checkSameRecipe(_ recipe: ReferenceRecipe, asRunIn folder: URL) throws {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("recipe.json")),
              let started = try? JSONDecoder().decode(ReferenceRecipe.self, from: data), started != recipe else { return }
        var options: [String] = []
        if started.name != recipe.name { options.append("--recipe \(started.name)") }
        if started.settings.steps != recipe.settings.steps { options.append("--steps \(started.settings.steps)") }
        if started.settings.schedule.peak != recipe.settings.schedule.peak { options.append("--learning-rate \(started.settings.schedule.peak)") }
        if started.trainingBytes != recipe.trainingBytes { options.append("--training-bytes \(started.trainingBytes)") }
        if started.settings.seed != recipe.settings.seed { options.append("--seed \(started.settings.seed)") }
        if started.mlpWidth != recipe.mlpWidth { options.append(started.mlpWidth.map { "--mlp-width \($0)" } ?? "no --mlp-width") }
        let how = options.isEmpty ? "the recipe it started with (\(started.name) as recorded in its recipe.json)" : options.joined(separator: " ")
        throw CLIError("\(folder.path) holds a run started with other options; resume it with \(how)")
    }
}
