import ArgumentParser
import Dispatch
import Foundation
import Mechanic

/// `mechanic card`: scores a trained reference model on held-out tasks, runs the canonical
/// mechanism checks, derives its ground-truth circuits (role-based and greedy minimal) and writes
/// its model card.
struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card",
        abstract: "Evaluate a trained reference model, check its mechanisms, derive its ground-truth circuits, write its model card.",
        discussion: """
        Writes into the model folder: README.md (the card), card.json (the same numbers), loss.svg, \
        and for each task the model does well enough: circuits/<task>.json (the role-based ground \
        truth) and circuits/<task>.minimal.json (greedy minimal elimination under mean ablation).

        The canonical checks (induction on random-token repeats, IOI's duplicate-token → \
        S-inhibition → name-mover chain) report their measured values whether they pass or not.

        Example:
          swift run -c release mechanic card --model artifacts/models/mechanic-6l
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var weights: WeightOptions

    @Option(help: "Held-out prompts per task for the scores.") var prompts = 200
    @Option(name: .customLong("circuit-prompts"), help: "Prompts per task for the ground-truth circuits.") var circuitPrompts = 48
    @Option(help: "Share of the task metric a minimal ground-truth circuit must keep.") var retain: Float = 0.8
    @Option(name: .customLong("min-accuracy"), help: "Tasks the model does worse than this get no circuit.") var minAccuracy = 0.8
    @Option(name: .customLong("stability-seeds"), help: "Prompt seeds each circuit is derived on to measure its stability (1 to skip).")
    var stabilitySeeds = 3
    @Flag(name: .customLong("checks-only"), help: "Run the canonical checks, print them (JSON with --json), write nothing.")
    var checksOnly = false
    @Flag(help: "With --checks-only: print the checks as JSON.") var json = false
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try OptionLimits.check(prompts, 1...OptionLimits.prompts, "--prompts")
        try OptionLimits.check(circuitPrompts, 2...10_000, "--circuit-prompts")
        guard retain > 0 && retain <= 1 else { throw ValidationError("--retain must be in (0, 1]") }
        guard (0...1).contains(minAccuracy) else { throw ValidationError("--min-accuracy must be in [0, 1]") }
        guard (1...10).contains(stabilitySeeds) else { throw ValidationError("--stability-seeds must be between 1 and 10") }
    }

    func run() throws {
        threads.apply()
        let folder = model.folder
        let loaded = try weights.load(folder: folder)
        let tokenizer = try GPT2Tokenizer(folder: folder)
        if checksOnly { return try runChecks(model: loaded, tokenizer: tokenizer) }
        let recipe = try JSONDecoder().decode(ReferenceRecipe.self, from: Data(contentsOf: folder.appendingPathComponent("recipe.json")))
        if recipe.isBlocksOnly {
            throw CLIError("\(recipe.name) was trained on generated token blocks with a byte vocabulary, which the card's text tasks "
                           + "cannot tokenize; run `mechanic card --checks-only --model \(folder.path)` for its induction checks")
        }
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("training-state.json"))) as? [String: Any]
        let log = try JSONDecoder().decode([TrainingRecord].self, from: JSONSerialization.data(withJSONObject: state?["log"] ?? []))
        let tokensPerStep = Double(recipe.settings.batchSize * recipe.settings.sequenceLength)
        let seconds = log.reduce(0.0) { $0 + tokensPerStep / $1.tokensPerSecond }

        let evaluation = ModelCard.Evaluation(scorePrompts: prompts, scoreSeed: 1, circuitPrompts: circuitPrompts, circuitSeed: 2,
                                              faithfulnessSeed: 3)
        let (induction, ioi) = try measureMechanisms(model: loaded, tokenizer: tokenizer)
        let headTypes = HeadTypes.Scores(heads: induction.heads, previousToken: induction.previousToken,
                                         duplicateToken: ioi.scores.duplicateToken, induction: induction.induction)

        var scores: [TaskScore] = [], minimal: [GroundTruth.Circuit] = [], roleBased: [GroundTruth.Circuit] = []
        var stability: [CircuitStability] = []
        let circuitFolder = folder.appendingPathComponent("circuits")
        try FileManager.default.createDirectory(at: circuitFolder, withIntermediateDirectories: true)
        let seeds = (0..<UInt64(stabilitySeeds)).map { evaluation.circuitSeed &+ 100 &* $0 }
        // Corpus-v2 models are scored on the v2 tasks (and the two v1 tasks v2 kept); v1 models on the v1 tasks.
        let names = recipe.repeatShare == nil ? ["ioi", "greater-than", "docstring", "induction"]
                                              : ["ioi-story", "greater-than", "docstring", "induction-random"]
        for task in try names.map(TaskRegistry.named) {
            let data = try task.dataset(tokenizer: tokenizer, count: prompts, seed: evaluation.scoreSeed, prependBOS: true)
            let score = try TaskScore.evaluate(model: loaded, dataset: data)
            scores.append(score)
            printError(String(format: "%@: accuracy %.1f%%, mean %@ %.3f", task.name, 100 * score.accuracy, score.metric.rawValue, score.meanMetric))
            guard score.accuracy >= minAccuracy else { continue }
            var minimalSets: [[HeadID]] = [], roleSets: [[HeadID]] = []
            for (index, seed) in seeds.enumerated() {
                let positives = try task.dataset(tokenizer: tokenizer, count: circuitPrompts, seed: seed, prependBOS: true)
                    .keepingCorrect(model: loaded).positives
                guard positives.count >= 2 else { break }
                let started = DispatchTime.now().uptimeNanoseconds
                let roleHeads: [GroundTruth.Head], procedure: String
                switch task.name {
                case "ioi-story":
                    let measured = index == 0 ? ioi : try IOIMechanism.measure(model: loaded, tokenizer: tokenizer, count: circuitPrompts, seed: seed)
                    roleHeads = RoleCircuits.ioi(measured)
                    procedure = "role-based: heads with an IOI role from attention and direct-logit scores on aligned ABBA/BABA vs ABC prompts"
                case "induction-random":
                    let measured = index == 0 ? induction : try InductionMechanism.measure(model: loaded, tokenizer: tokenizer, perCell: 4, seed: seed)
                    roleHeads = RoleCircuits.induction(measured)
                    procedure = "role-based: induction heads (attention to i − n + 1, or to i − n + 2) and earlier previous-token heads (scores ≥ 0.4 on random-token repeats)"
                default:
                    roleHeads = try RoleCircuits.byPatching(model: loaded, prompts: positives, metric: task.metric)
                    procedure = "role-based: heads whose aligned-counterfactual patch moves ≥ 5% of the metric"
                }
                roleSets.append(roleHeads.map(\.head))
                var bar = ProgressBar(total: loaded.config.layers * loaded.config.heads, label: "minimal \(task.name) seed \(seed)")
                let greedy = try GroundTruth.derive(model: loaded, task: task.name, prompts: positives, metric: task.metric,
                                                    retain: retain, roles: headTypes.roles(), seed: evaluation.faithfulnessSeed) { done, _ in bar.update(done) }
                bar.update(loaded.config.layers * loaded.config.heads)
                minimalSets.append(greedy.heads.map(\.head))
                guard index == 0 else { continue }
                let role = try RoleCircuits.circuit(model: loaded, task: task.name, heads: roleHeads, prompts: positives, metric: task.metric,
                                                    procedure: procedure, seed: evaluation.faithfulnessSeed, started: started)
                roleBased.append(role)
                minimal.append(greedy)
                try writeJSON(role, to: circuitFolder.appendingPathComponent("\(task.name).json"))
                try writeJSON(greedy, to: circuitFolder.appendingPathComponent("\(task.name).minimal.json"))
                printError("  role-based: \(role.heads.map(\.head.description).joined(separator: " ")) keeps "
                           + String(format: "%.0f%%", 100 * role.faithfulness.recovered))
                printError("  minimal:    \(greedy.heads.map(\.head.description).joined(separator: " ")) keeps "
                           + String(format: "%.0f%%", 100 * greedy.faithfulness.recovered))
            }
            if seeds.count > 1 {
                stability.append(CircuitStability(task: task.name, procedure: "role-based", seeds: Array(seeds.prefix(roleSets.count)), circuits: roleSets))
                stability.append(CircuitStability(task: task.name, procedure: "minimal", seeds: Array(seeds.prefix(minimalSets.count)), circuits: minimalSets))
            }
        }
        let last = log.last
        var card = ModelCard(recipe: recipe, command: "swift run -c release mechanic train --recipe \(recipe.name)",
                             parameters: loaded.config.parameterCount, trainingSeconds: seconds, finalLoss: last?.loss ?? .nan,
                             finalHeldOutLoss: log.last(where: { $0.evaluationLoss != nil })?.evaluationLoss,
                             scores: scores, circuits: minimal, headTypes: headTypes, evaluation: evaluation)
        card.mechanisms = ModelCard.Mechanisms(induction: induction, ioi: ioi)
        card.roleCircuits = roleBased
        card.stability = stability
        let chart = SVGLineChart(title: "\(recipe.name) loss", xLabel: "step", yLabel: "cross-entropy (nats)", series: [
            .init(name: "train", color: "#1f77b4", points: log.map { (Double($0.step), Double($0.loss)) }),
            .init(name: "held-out", color: "#d62728",
                  points: log.compactMap { r in r.evaluationLoss.map { (Double(r.step), Double($0)) } }),
        ])
        try chart.render().write(to: folder.appendingPathComponent("loss.svg"), atomically: true, encoding: .utf8)
        try card.markdown().write(to: folder.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try writeJSON(card, to: folder.appendingPathComponent("card.json"))
        printError("model card → \(folder.appendingPathComponent("README.md").path)")
    }

    /// `--checks-only`: the canonical checks of any GPT-2-tokenizer model folder, nothing written.
    /// IOI is left out, saying why, when the vocabulary has no single-token names (a byte
    /// vocabulary trained on generated blocks); induction is still checked.
    private func runChecks(model: Transformer, tokenizer: GPT2Tokenizer) throws {
        printError("canonical checks: induction…")
        let induction = try InductionMechanism.measure(model: model, tokenizer: tokenizer, seed: 1)
        report(induction.checks)
        printError("canonical checks: IOI…")
        var ioi: IOIMechanism.Report? = nil
        do {
            ioi = try IOIMechanism.measure(model: model, tokenizer: tokenizer, seed: 1)
            report(ioi!.checks)
        } catch TaskError.notSingleToken(let text, let role) {
            printError("  IOI not measured: \"\(text)\" (\(role)) is not one token of this vocabulary")
        }
        if json {
            try printJSON(Checks(induction: induction, ioi: ioi))
        } else {
            for c in induction.checks + (ioi?.checks ?? []) {
                print(String(format: "%@  %@: %.3f (%@ %g)", c.passed ? "pass" : "FAIL", c.name, c.measured, c.comparison.rawValue, c.threshold))
            }
            if let shifted = induction.shiftedInduction, let head = induction.shiftedInductionHead, let i = induction.heads.firstIndex(of: head) {
                print(String(format: "info  shifted induction score, attention to i − n + 2: %.3f (head %@)", shifted[i], head.description))
                let earlier = induction.heads.indices.filter { induction.heads[$0].layer < head.layer }
                if let p = earlier.max(by: { induction.previousToken[$0] < induction.previousToken[$1] }) {
                    print(String(format: "info  previous-token score before the shifted head: %.3f (head %@)", induction.previousToken[p],
                                 induction.heads[p].description))
                }
            }
        }
    }

    /// `--checks-only --json`: `ModelCard.Mechanisms`' layout, without `ioi` when it was not measured.
    private struct Checks: Encodable {
        var induction: InductionMechanism.Report
        var ioi: IOIMechanism.Report?
    }

    /// The canonical checks (seed 1), each reported on standard error as it is measured.
    private func measureMechanisms(model: Transformer, tokenizer: GPT2Tokenizer) throws -> (InductionMechanism.Report, IOIMechanism.Report) {
        printError("canonical checks: induction…")
        let induction = try InductionMechanism.measure(model: model, tokenizer: tokenizer, seed: 1)
        report(induction.checks)
        printError("canonical checks: IOI…")
        let ioi = try IOIMechanism.measure(model: model, tokenizer: tokenizer, seed: 1)
        report(ioi.checks)
        return (induction, ioi)
    }

    private func report(_ checks: [MechanismCheck]) {
        for c in checks {
            printError(String(format: "  %@ %@: %.3f (%@ %g) %@", c.passed ? "pass" : "FAIL", c.name, c.measured, c.comparison.rawValue, c.threshold, c.detail))
        }
    }

    private func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = nonFiniteAsStrings
        try encoder.encode(value).write(to: url, options: .atomic)
    }
}
