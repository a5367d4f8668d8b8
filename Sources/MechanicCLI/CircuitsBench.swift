import ArgumentParser
import Foundation
import Mechanic

/// `mechanic bench circuits`: the SAE pipeline and head-level patching on a GPT-2-small shape.
struct CircuitsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuits",
        abstract: "Time the SAE method (capture, train, score) and head-level activation patching on GPT-2-small's shape.",
        discussion: """
        Random weights and random prompts (the figures are about speed, not circuits): the SAE \
        pipeline captures every head's output on --prompts prompts (half positive, half negative), \
        trains the reference-protocol SAE (200 hidden, 500 epochs, 10 prompts) and scores all 144 \
        heads; patching replaces each of the 144 heads' hook_z in turn on 8 prompts × 16 tokens.

        Example:
          swift run -c release mechanic bench circuits
        """
    )

    @Option(help: "Prompts whose head outputs the SAE pipeline captures (half positive, half negative).") var prompts = 500
    @Option(help: "Tokens per prompt.") var tokens = 16
    @Option(name: .customLong("patching-prompts"), help: "Prompts for activation and attribution patching.") var patchingPrompts = 8
    @Option(help: "Run only these parts, comma-separated: sae, patching, attribution (default: all).")
    var only: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var threads: ThreadOptions

    static let parts = ["sae", "patching", "attribution"]

    func validate() throws {
        if let bad = selectedParts.first(where: { !CircuitsBench.parts.contains($0) }) {
            throw ValidationError("--only takes sae, patching or attribution (comma-separated); got \"\(bad)\".")
        }
    }

    var selectedParts: [String] {
        only.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? CircuitsBench.parts
    }

    struct Result: Codable {
        var saeSeconds: Double?
        /// Seconds of each SAE stage, in order (capture, train, code, score).
        var saeStages: [Stage]?
        var patchingSeconds: Double?
        var attributionSeconds: Double?
        var prompts: Int
        var tokens: Int
        var patchingPrompts: Int
    }

    struct Stage: Codable {
        var name: String
        var seconds: Double
    }

    func run() throws {
        threads.apply()
        let config = TransformerConfig()
        let model = try Transformer(config: config, weights: .random(config: config, seed: 0))
        var rng = SeededRandom(seed: 1)
        let make = { (rng: inout SeededRandom) -> TaskPrompt in
            let t = (0..<tokens).map { _ in Int(rng.next() % 50000) }
            return TaskPrompt(text: "", tokens: t, answers: [Int(rng.next() % 50000)], wrongAnswers: [Int(rng.next() % 50000)],
                              corruptedTokens: (0..<tokens).map { _ in Int(rng.next() % 50000) })
        }
        let dataset = TaskDataset(task: "random", metric: .logitDifference,
                                  positives: (0..<(prompts / 2)).map { _ in make(&rng) }, negatives: (0..<(prompts / 2)).map { _ in make(&rng) })
        let patchSet = Array(dataset.positives.prefix(patchingPrompts))
        let clock = ContinuousClock()
        let parts = selectedParts
        var result = Result(prompts: prompts, tokens: tokens, patchingPrompts: patchingPrompts)
        if parts.contains("sae") {
            // Each progress message starts a stage: the time between messages is that stage's.
            var marks: [(String, ContinuousClock.Instant)] = []
            let start = clock.now
            _ = try SAEScoring.run(model: model, dataset: dataset, options: SAEScoring.Options(sae: SAEConfiguration(inputDimension: 768)),
                                   progress: { marks.append(($0, clock.now)) })
            let end = clock.now
            result.saeSeconds = (end - start).seconds
            result.saeStages = marks.indices.map { i in
                Stage(name: marks[i].0, seconds: ((i + 1 < marks.count ? marks[i + 1].1 : end) - marks[i].1).seconds)
            }
        }
        if parts.contains("patching") {
            let start = clock.now
            _ = try ActivationPatching.headScores(model: model, prompts: patchSet, metric: .logitDifference, source: .resample)
            result.patchingSeconds = (clock.now - start).seconds
        }
        if parts.contains("attribution") {
            let start = clock.now
            _ = try AttributionPatching.run(model: model, prompts: patchSet, metric: .logitDifference)
            result.attributionSeconds = (clock.now - start).seconds
        }
        if json { return try printJSON(result) }
        if let sae = result.saeSeconds {
            print(String(format: "SAE pipeline (%d prompts × %d tokens, 144 heads): %.2f s", prompts, tokens, sae))
            for stage in result.saeStages ?? [] {
                print("  " + stage.name.padding(toLength: 50, withPad: " ", startingAt: 0) + String(format: "%6.2f s", stage.seconds))
            }
        }
        if let patching = result.patchingSeconds {
            print(String(format: "activation patching (144 heads, %d prompts × %d tokens): %.2f s", patchingPrompts, tokens, patching))
        }
        if let attribution = result.attributionSeconds {
            print(String(format: "attribution patching + gradient × activation (same prompts): %.2f s", attribution))
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
