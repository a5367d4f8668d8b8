import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// The shape of the analysed model, as reports show it.
public struct SinkModelSummary: Codable, Sendable, Equatable {
    public var layers: Int
    public var heads: Int
    public var dModel: Int
    public var contextLength: Int
    public var vocabSize: Int

    public init(layers: Int, heads: Int, dModel: Int, contextLength: Int, vocabSize: Int) {
        self.layers = layers
        self.heads = heads
        self.dModel = dModel
        self.contextLength = contextLength
        self.vocabSize = vocabSize
    }

    public init(_ config: TransformerConfig) {
        self.init(layers: config.layers, heads: config.heads, dModel: config.dModel,
                  contextLength: config.contextLength, vocabSize: config.vocabSize)
    }
}

/// One head's attention pattern on one prompt, kept for drawing.
public struct AttentionPatternExample: Codable, Sendable, Equatable {
    public var bosPrepended: Bool
    public var prompt: Int
    public var layer: Int
    public var head: Int
    /// Token texts of the drawn positions (both axes).
    public var tokens: [String]
    /// `[queryPos][keyPos]`, zero above the diagonal.
    public var weights: [[Double]]

    public init(bosPrepended: Bool, prompt: Int, layer: Int, head: Int, tokens: [String], weights: [[Double]]) {
        self.bosPrepended = bosPrepended
        self.prompt = prompt
        self.layer = layer
        self.head = head
        self.tokens = tokens
        self.weights = weights
    }
}

/// A complete attention-sink analysis: statistics per BOS setting and example patterns.
///
/// What `mechanic sinks` computes and `SinkReportWriter` (in `MechanicExport`) writes out.
public struct SinkAnalysis: Codable, Sendable, Equatable {
    public var model: SinkModelSummary
    /// One entry per BOS setting, with-BOS first.
    public var variants: [SinkStatistics]
    /// Attention patterns of the example prompt, per head and BOS setting.
    public var examples: [AttentionPatternExample]

    public init(model: SinkModelSummary, variants: [SinkStatistics], examples: [AttentionPatternExample]) {
        self.model = model
        self.variants = variants
        self.examples = examples
    }

    /// The whole job on texts: tokenise (with and/or without BOS), analyse, draw example patterns.
    ///
    /// - Parameters:
    ///   - model: the model.
    ///   - tokenizer: its tokenizer (BOS, padding and token texts come from it).
    ///   - prompts: at least one non-empty text.
    ///   - options: thresholds, BOS setting, batch size, progress callback, examples.
    /// - Throws: ``SinkError`` for empty input and bad options; `ModelError.promptTooLong`
    ///   (row = prompt index, length counting the BOS) for prompts that do not fit the context.
    public static func run(model: Transformer, tokenizer: any Tokenizer, prompts: [String],
                           options: SinkOptions = SinkOptions()) throws -> SinkAnalysis {
        guard !prompts.isEmpty else { throw SinkError.emptyPromptSet }
        let rows = prompts.map { tokenizer.encode($0, prependBOS: false) }
        return try run(model: model, prompts: rows, bosID: tokenizer.bosID, padID: tokenizer.eosID, options: options) { id in
            (try? tokenizer.tokenStrings([id]).first) ?? "#\(id)"
        }
    }

    /// The whole job on token ids.
    ///
    /// - Parameters:
    ///   - prompts: each prompt's ids without a BOS; the with-BOS variant prepends `bosID`.
    ///   - bosID: the id to prepend.
    ///   - padID: the id of padded slots.
    ///   - tokenText: the text of a token id.
    public static func run(model: Transformer, prompts: [[Int]], bosID: Int, padID: Int, options: SinkOptions = SinkOptions(),
                           tokenText: (Int) -> String) throws -> SinkAnalysis {
        try options.validate()
        guard model.config.causal else { throw SinkError.bidirectionalModel(modelType: model.config.modelType) }
        guard !prompts.isEmpty else { throw SinkError.emptyPromptSet }
        if let empty = prompts.firstIndex(where: \.isEmpty) { throw SinkError.emptyPrompt(index: empty) }
        guard options.examplePrompt < prompts.count else {
            throw SinkError.invalidOption(name: "examplePrompt", value: "\(options.examplePrompt)",
                                          expected: "a prompt index below \(prompts.count)")
        }
        let config = model.config
        for head in options.exampleHeads ?? [] { try head.validate(layers: config.layers, heads: config.heads) }
        let settings = options.prependBOS.variants
        let batches = try settings.map { bos in
            try SinkStatistics.batched(prompts.map { bos ? [bosID] + $0 : $0 }, padID: padID, batchSize: options.batchSize)
        }
        // Every prompt of every variant is checked before the first forward pass.
        for variant in batches { for batch in variant { try SinkStatistics.validate(batch, config: config) } }
        var variants: [SinkStatistics] = []
        for (k, bos) in settings.enumerated() {
            variants.append(try SinkStatistics.analyse(model: model, prompts: batches[k], bosPrepended: bos, options: options,
                                                       progressOffset: k * prompts.count,
                                                       progressTotal: settings.count * prompts.count, tokenText: tokenText))
        }
        let heads = Array(Set(options.exampleHeads ?? exampleHeads(for: variants[0]))).sorted()
        var examples: [AttentionPatternExample] = []
        for bos in settings {
            let row = bos ? [bosID] + prompts[options.examplePrompt] : prompts[options.examplePrompt]
            examples += try patterns(model: model, row: Array(row.prefix(options.exampleMaxPositions)), heads: heads,
                                     bosPrepended: bos, prompt: options.examplePrompt, tokenText: tokenText)
        }
        examples.sort { ($0.layer, $0.head, $0.bosPrepended ? 0 : 1) < ($1.layer, $1.head, $1.bosPrepended ? 0 : 1) }
        return SinkAnalysis(model: SinkModelSummary(config), variants: variants, examples: examples)
    }

    /// The heads worth drawing: the most first-token mass, and the most hidden sinks if there are any.
    static func exampleHeads(for statistics: SinkStatistics) -> [HeadIndex] {
        let all = HeadIndex.all(layers: statistics.layers, heads: statistics.heads)
        // `max(by:)` keeps the last of equal elements; compare with the index so the first wins.
        let first = all.max { a, b in
            (statistics.firstTokenMass[a.layer][a.head], b) < (statistics.firstTokenMass[b.layer][b.head], a)
        }!
        let hidden = all.max { a, b in
            (statistics.hiddenSinkCounts[a.layer][a.head], b) < (statistics.hiddenSinkCounts[b.layer][b.head], a)
        }!
        if statistics.hiddenSinkCounts[hidden.layer][hidden.head] == 0 || hidden == first { return [first] }
        return [first, hidden].sorted()
    }

    /// Runs one prompt and keeps the chosen heads' patterns.
    static func patterns(model: Transformer, row: [Int], heads: [HeadIndex], bosPrepended: Bool, prompt: Int,
                         tokenText: (Int) -> String) throws -> [AttentionPatternExample] {
        let layers = Set(heads.map(\.layer))
        let out = try model.run(TokenBatch(row), logits: .none, capture: CaptureSpec(names: layers.map { HookName.pattern($0) }))
        let t = row.count
        let tokens = row.map(tokenText)
        return heads.map { head in
            let pattern = out.cache[.pattern(head.layer)]!                 // [1, head, queryPos, keyPos]
            let weights = (0..<t).map { i in
                (0..<t).map { j in j <= i ? Double(pattern.storage[(head.head * t + i) * t + j]) : 0 }
            }
            return AttentionPatternExample(bosPrepended: bosPrepended, prompt: prompt, layer: head.layer, head: head.head,
                                           tokens: tokens, weights: weights)
        }
    }
}
