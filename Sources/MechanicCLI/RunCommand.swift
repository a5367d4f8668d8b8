import ArgumentParser
import Foundation
import Mechanic

/// `mechanic run`: next-token predictions and chosen activations for prompts.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run prompts: top-k next tokens, and any activations you name.",
        discussion: """
        Hook names are TransformerLens's (`mechanic inspect --hooks` lists them). A name may use \
        * for the layer to take every block, e.g. blocks.*.attn.hook_z.

        Examples:
          mechanic run --model ~/models/gpt2 --top-k 5 "When Mary and John went to the store, John gave a drink to"
          mechanic run --model ~/models/gpt2 --capture blocks.0.attn.hook_pattern --positions last --json "Hello there"
          mechanic run --model ~/models/gpt2 --capture 'blocks.*.hook_resid_post' --values --json --prompts-file prompts.txt
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var weights: WeightOptions
    @OptionGroup var prompts: PromptOptions
    @OptionGroup var threads: ThreadOptions

    @Option(name: .customLong("top-k"), help: "Next tokens to show per prompt.")
    var topK = 5

    @Option(help: ArgumentHelp("Hook names to capture (repeatable; * matches any layer).", valueName: "hook"))
    var capture: [String] = []

    @Option(help: "Positions to capture: all, last, or comma-separated indices (negative counts from the end).")
    var positions = "all"

    @Flag(help: "Include activation values in JSON output (otherwise shape, mean and norm).")
    var values = false

    @Flag(help: "Include the full last-position logits in JSON output.")
    var logits = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if topK < 0 { throw ValidationError("--top-k must be 0 or more.") }
        _ = try positionSelection()
    }

    func positionSelection() throws -> PositionSelection {
        switch positions {
        case "all": return .all
        case "last": return .last
        default:
            let list = positions.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !list.isEmpty, list.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--positions takes all, last, or indices like 0,-1; got \"\(positions)\".")
            }
            return .indices(list.map { $0! })
        }
    }

    /// Expands `*` layer wildcards and checks every name against the model.
    func hookNames(for loaded: Transformer) throws -> [HookName] {
        try capture.flatMap { pattern -> [HookName] in
            let matches = loaded.hookNames.filter { name in
                if pattern.contains("*"), let layer = name.layer {
                    return pattern.replacingOccurrences(of: "*", with: String(layer)) == name.description
                }
                return pattern == name.description
            }
            if matches.isEmpty { throw ModelError.unknownHook(pattern) }
            return matches
        }
    }

    struct Prediction: Codable {
        var token: String
        var id: Int
        var logit: Float
        var probability: Float
    }

    struct Activation: Codable {
        var shape: [Int]
        var mean: Float
        var norm: Float
        var values: [Float]?
    }

    struct Row: Codable {
        var prompt: String
        var tokens: [String]
        var next: [Prediction]
        var logits: [Float]?
        var activations: [String: Activation]
    }

    /// Tokenises every prompt and checks it against the context first, so a bad prompt anywhere
    /// is an error before anything is printed; then runs them one by one, printing each result
    /// as soon as it exists (with `--json`, one JSON array written element by element), with
    /// progress on standard error for long prompt files.
    func run() throws {
        threads.apply()
        let (loaded, tokenizer) = try model.load(weights)
        guard let tokenizer else {
            throw CLIError("\(model.folder.path) has no tokenizer (tokenizer.json, vocab.json + merges.txt, or tokenizer.model)")
        }
        let names = try hookNames(for: loaded)
        let selection = try positionSelection()
        let texts = try prompts.texts()
        let encoded = try texts.enumerated().map { i, text -> [Int] in
            let ids = tokenizer.encode(text, prependBOS: prompts.prependBOS)
            guard !ids.isEmpty else { throw CLIError("prompt \(i + 1) \(String(text.prefix(80)).debugDescription) has no tokens; drop it or keep BOS") }
            guard ids.count <= loaded.config.contextLength else {
                throw CLIError("prompt \(i + 1) \(String(text.prefix(80)).debugDescription) is \(ids.count) tokens; the model's context is \(loaded.config.contextLength)")
            }
            return ids
        }
        var bar = texts.count >= 100 ? ProgressBar(total: texts.count, label: "prompts") : nil
        let encoder = jsonEncoder()
        if json { print("[") }
        for (i, (text, ids)) in zip(texts, encoded).enumerated() {
            let row = try predict(text: text, ids: ids, model: loaded, tokenizer: tokenizer, names: names, selection: selection)
            if json {
                print(String(decoding: try encoder.encode(row), as: UTF8.self) + (i + 1 < texts.count ? "," : ""))
            } else {
                show(row, names: names)
            }
            bar?.update(i + 1)
        }
        if json { print("]") }
    }

    /// One prompt's next-token predictions and captured activations.
    func predict(text: String, ids: [Int], model loaded: Transformer, tokenizer: any Tokenizer, names: [HookName],
                 selection: PositionSelection) throws -> Row {
        let spec = names.isEmpty ? nil : CaptureSpec(names: names, positions: selection)
        let out = try loaded.run(TokenBatch(ids), logits: .last, capture: spec)
        let last = Array(out.logits!.storage)
        let maxLogit = last.max() ?? 0
        let total = last.reduce(Float(0)) { $0 + exp($1 - maxLogit) }
        let top = last.indices.sorted { last[$0] > last[$1] || (last[$0] == last[$1] && $0 < $1) }.prefix(topK)
        let next = try top.map { id in
            Prediction(token: try tokenizer.decode([id]), id: id, logit: last[id], probability: exp(last[id] - maxLogit) / total)
        }
        var activations: [String: Activation] = [:]
        for name in names {
            let t = out.cache[name]!
            let sum = t.storage.reduce(0, +), sq = t.storage.reduce(0) { $0 + $1 * $1 }
            activations[name.description] = Activation(
                shape: t.shape, mean: sum / Float(max(t.count, 1)), norm: sq.squareRoot(), values: values ? t.storage : nil)
        }
        return Row(prompt: text, tokens: try tokenizer.tokenStrings(ids), next: next, logits: logits ? last : nil, activations: activations)
    }

    func show(_ row: Row, names: [HookName]) {
        print("\(row.prompt.debugDescription) (\(row.tokens.count) tokens)")
        for (rank, p) in row.next.enumerated() {
            print(String(format: "  %2d. %-20@ id %6d  logit %9.4f  p %.4f", rank + 1, p.token.debugDescription, p.id, p.logit, p.probability))
        }
        for name in names {
            let a = row.activations[name.description]!
            print(String(format: "  %-36@ %@  mean %.5g  norm %.5g", name.description, "\(a.shape)", a.mean, a.norm))
        }
    }
}
