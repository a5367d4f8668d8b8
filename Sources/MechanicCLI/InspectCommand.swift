import ArgumentParser
import Foundation
import Mechanic

/// `mechanic inspect`: what a checkpoint is.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's family, architecture features, parameter count and hook names.",
        discussion: """
        The family comes from config.json's model_type; the features are what the forward pass \
        does differently for it (norm, positions, attention, MLP, block layout). Hook names are \
        TransformerLens's for that family: rotary models have attn.hook_rot_q/k and no \
        hook_pos_embed, gated MLPs have mlp.hook_pre_linear, parallel blocks have no hook_resid_mid, \
        and grouped keys and values are shown per query head.

        Examples:
          mechanic inspect --model ~/models/gpt2
          mechanic inspect --model ~/models/Llama-3.2-1B --hooks --json
          mechanic inspect --families
        """
    )

    @OptionGroup var model: OptionalModelOptions
    @OptionGroup var weights: WeightOptions

    @Flag(help: "List the supported families (model_type values) instead of inspecting a model.")
    var families = false

    @Flag(help: "List every hook name with its activation shape.")
    var hooks = false

    @Flag(help: "Print JSON.")
    var json = false

    struct Hook: Codable {
        var name: String
        var shape: [String]
    }

    struct Report: Codable {
        var folder: String
        var modelType: String
        var features: [String]
        var layers: Int
        var heads: Int
        var kvHeads: Int
        var dModel: Int
        var dHead: Int
        var dMLP: Int?
        var contextLength: Int
        var vocabSize: Int
        var attentionOnly: Bool
        var layerNormEpsilon: Float
        var parameters: Int
        var tokenizer: Bool
        var hookCount: Int
        var hooks: [Hook]?
    }

    struct Family: Codable {
        var modelTypes: [String]
        var summary: String
    }

    func validate() throws {
        if !families && model.model == nil { throw ValidationError("Give --model FOLDER, or --families to list the supported families.") }
    }

    func run() throws {
        if families { return try listFamilies() }
        let options = try model.required()
        let (loaded, tokenizer) = try options.load(weights)
        let c = loaded.config
        let names = loaded.hookNames
        let report = Report(
            folder: options.folder.path, modelType: c.modelType, features: c.features,
            layers: c.layers, heads: c.heads, kvHeads: c.kvHeads, dModel: c.dModel, dHead: c.dHead,
            dMLP: c.attentionOnly ? nil : c.dMLP, contextLength: c.contextLength, vocabSize: c.vocabSize,
            attentionOnly: c.attentionOnly, layerNormEpsilon: c.layerNormEpsilon, parameters: c.parameterCount,
            tokenizer: tokenizer != nil, hookCount: names.count,
            hooks: hooks ? names.map { Hook(name: $0.description, shape: $0.point.axes) } : nil)
        if json { return try printJSON(report) }
        print("""
        \(report.folder)
          family \(c.modelType): \(c.features.joined(separator: ", "))
          layers \(c.layers), heads \(c.heads)\(c.kvHeads == c.heads ? "" : " (\(c.kvHeads) key/value)"), d_model \(c.dModel), \
        d_head \(c.dHead), \(c.attentionOnly ? "attention-only" : "d_mlp \(c.dMLP)")
          context \(c.contextLength), vocabulary \(c.vocabSize), norm eps \(c.layerNormEpsilon)
          parameters \(c.parameterCount.formatted()) (unembedding \(c.tiedEmbeddings ? "tied" : "untied"))
          tokenizer \(tokenizer == nil ? "none in folder" : "vocab \(tokenizer!.vocabularySize)")
          hook points \(names.count)\(hooks ? ":" : " (--hooks lists them)")
        """)
        if hooks {
            for name in names { print("    \(name.description.padding(toLength: 36, withPad: " ", startingAt: 0)) [\(name.point.axes.joined(separator: ", "))]") }
        }
    }

    func listFamilies() throws {
        let list = ModelFamilies.all.map { Family(modelTypes: $0.modelTypes, summary: $0.summary) }
        if json { return try printJSON(list) }
        for family in list {
            print("\(family.modelTypes.joined(separator: ", ").padding(toLength: 16, withPad: " ", startingAt: 0))\(family.summary)")
        }
    }
}
