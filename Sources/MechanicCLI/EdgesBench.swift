import ArgumentParser
import Foundation
import Mechanic

/// `mechanic bench edges`: edge attribution on GPT-2-small's shape and exact edge patching on a
/// reference model, the figures issue 13 sets targets for.
struct EdgesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edges",
        abstract: "Time EAP and EAP-IG over GPT-2-small's 32,491 edges, and exact edge patching over a reference model's graph.",
        discussion: """
        EAP, EAP-IG (--steps, interpolated inputs) and EAP-IG on the activations run on random \
        GPT-2-small weights with --prompts random prompts of --tokens tokens and random \
        counterfactual twins (the figures are about speed, not circuits): the same workload as \
        scripts/bench_eap_pytorch.py, which times the EAP-IG library (the MIB's) on the same \
        machine and threads. Exact edge patching runs once per edge over the whole graph of \
        --model on --patching-prompts IOI prompts it gets right.

        Example:
          swift run -c release mechanic bench edges --threads 2
          python3 scripts/bench_eap_pytorch.py --threads 2
        """
    )

    @Option(help: "Prompts of the attribution workload.") var prompts = 8
    @Option(help: "Tokens per prompt.") var tokens = 16
    @Option(help: "EAP-IG interpolation steps.") var steps = 5
    @Option(help: ArgumentHelp("Model whose full graph exact edge patching covers (default: mechanic-mini, the workload of the README's figures).", valueName: "folder"))
    var model = EdgesBench.defaultModel
    @Option(name: .customLong("patching-prompts"), help: "IOI prompts of the exact-patching workload.") var patchingPrompts = 32
    @Option(help: "Run only these parts, comma-separated: eap, eap-ig, eap-ig-activations, exact (default: eap, eap-ig, exact).")
    var only: String?
    @Option(help: "Timed repetitions of each attribution part (after one warm-up); the median is reported.") var repeats = 3
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var weights: WeightOptions
    @OptionGroup var threads: ThreadOptions

    static let parts = ["eap", "eap-ig", "eap-ig-activations", "exact"]
    /// The benchmark's fixed workload: the v1 model and its template IOI task, whatever the embedded default is.
    static let defaultModel = "artifacts/models/mechanic-mini"

    var selectedParts: [String] {
        only.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? ["eap", "eap-ig", "exact"]
    }

    func validate() throws {
        if let bad = selectedParts.first(where: { !EdgesBench.parts.contains($0) }) {
            throw ValidationError("--only takes \(EdgesBench.parts.joined(separator: ", ")) (comma-separated); got \"\(bad)\".")
        }
        try OptionLimits.check(prompts, 1...1_024, "--prompts")
        try OptionLimits.check(tokens, 1...1_024, "--tokens")
        try OptionLimits.check(steps, 1...OptionLimits.igSteps, "--steps")
        try OptionLimits.check(repeats, 1...100, "--repeats")
        try OptionLimits.check(patchingPrompts, 1...OptionLimits.prompts, "--patching-prompts")
    }

    struct Row: Codable {
        var part: String
        var model: String
        var edges: Int
        var prompts: Int
        var tokens: Int?
        var seconds: Double
    }

    func run() throws {
        threads.apply()
        var rows: [Row] = []
        let parts = selectedParts
        let attribution = parts.filter { $0 != "exact" }
        if !attribution.isEmpty {
            let config = TransformerConfig()
            let gpt2 = try Transformer(config: config, weights: .random(config: config, seed: 0))
            var rng = SeededRandom(seed: 1)
            let set = (0..<prompts).map { _ -> TaskPrompt in
                let t = (0..<tokens).map { _ in Int(rng.next() % 50000) }
                return TaskPrompt(text: "", tokens: t, answers: [Int(rng.next() % 50000)], wrongAnswers: [Int(rng.next() % 50000)],
                                  corruptedTokens: (0..<tokens).map { _ in Int(rng.next() % 50000) })
            }
            let edges = ComputationalGraph(config: config).edges.count
            for part in attribution {
                let method: EdgeAttribution.Method = switch part {
                case "eap": .eap
                case "eap-ig": .integratedGradients(steps: steps)
                default: .integratedGradientsOnActivations(steps: steps)
                }
                var times: [Double] = []
                for i in 0...repeats {
                    if !json { printError(i == 0 ? "\(part): warm-up…" : "\(part): run \(i) of \(repeats)…") }
                    let scored = try EdgeAttribution.run(model: gpt2, prompts: set, metric: .logitDifference, method: method)
                    if i > 0 { times.append(scored.seconds) }
                }
                rows.append(Row(part: part == "eap" ? part : "\(part) (\(steps) steps)", model: "GPT-2 small shape", edges: edges,
                                prompts: prompts, tokens: tokens, seconds: times.sorted()[times.count / 2]))
            }
        }
        if parts.contains("exact") {
            let (folder, loaded, tokenizer) = try loadModelFolder(model, weights)
            let made = try TaskRegistry.named("ioi").dataset(tokenizer: tokenizer, count: max(patchingPrompts, 2), seed: 0, prependBOS: true)
            let set = Array(try made.keepingCorrect(model: loaded).positives.prefix(patchingPrompts))
            guard !set.isEmpty else { throw CLIError("the model gets no IOI prompt right; nothing to patch") }
            if !json { printError("exact edge patching over \(folder.lastPathComponent)'s graph…") }
            let scored = try EdgePatching.run(model: loaded, prompts: set, metric: .logitDifference)
            rows.append(Row(part: "edge-patching (exact)", model: folder.lastPathComponent, edges: scored.graph.edges.count,
                            prompts: set.count, tokens: nil, seconds: scored.seconds))
        }
        if json { return try printJSON(rows) }
        print("part                       model                 edges  prompts  seconds")
        for r in rows {
            print(r.part.padding(toLength: 26, withPad: " ", startingAt: 0) + " " + r.model.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + String(format: " %7d %8d %8.3f", r.edges, r.prompts, r.seconds))
        }
        print("threads: \(Kernels.blasThreads) BLAS")
    }
}
