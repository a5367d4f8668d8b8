import MechanicModel
import MechanicTensor
import MechanicTokenizer
import Synchronization

extension SinkStatistics {
    /// Runs the model over token batches and reduces every layer's pattern and residual stream
    /// on the fly (see ``SinkAccumulator``).
    ///
    /// Each batch is one forward pass without logits; read-only interventions on `hook_pattern`
    /// and `hook_resid_post` feed the accumulator while the pass runs, so no activation outlives
    /// its layer.
    ///
    /// - Parameters:
    ///   - model: the model.
    ///   - batches: right-padded token batches; rows are numbered across batches in order.
    ///   - bosPrepended: whether the rows start with a BOS (recorded in the result).
    ///   - options: thresholds, record limit and progress callback (`batchSize` and the example
    ///     options are not used here).
    ///   - tokenText: the text of a token id, for the lists of sinks and massive activations.
    /// - Throws: ``SinkError/emptyPromptSet``; `ModelError.promptTooLong` or
    ///   `.tokenOutOfRange` (with `row` the prompt's index over all batches) before any pass runs.
    public static func analyse(
        model: Transformer,
        batches: [TokenBatch],
        bosPrepended: Bool,
        options: SinkOptions = SinkOptions(),
        tokenText: (Int) -> String = { "#\($0)" }
    ) throws -> SinkStatistics {
        var next = 0
        let prompts = batches.map { batch in
            defer { next += batch.batch }
            return PromptBatch(tokens: batch, promptIndices: Array(next..<(next + batch.batch)))
        }
        return try analyse(model: model, prompts: prompts, bosPrepended: bosPrepended, options: options,
                           progressOffset: 0, progressTotal: next, tokenText: tokenText)
    }

    /// Batches token rows by length (so little is padded) and analyses them.
    ///
    /// - Parameters:
    ///   - rows: each prompt's token ids, exactly as the model should see them.
    ///   - padID: the id written into padded slots (never attended to by real tokens).
    /// - Throws: as ``analyse(model:batches:bosPrepended:options:tokenText:)``, and
    ///   ``SinkError/emptyPrompt(index:)`` for a row with no tokens.
    public static func analyse(
        model: Transformer,
        rows: [[Int]],
        padID: Int,
        bosPrepended: Bool,
        options: SinkOptions = SinkOptions(),
        tokenText: (Int) -> String = { "#\($0)" }
    ) throws -> SinkStatistics {
        try analyse(model: model, prompts: batched(rows, padID: padID, batchSize: options.batchSize), bosPrepended: bosPrepended,
                    options: options, progressOffset: 0, progressTotal: rows.count, tokenText: tokenText)
    }

    /// Groups rows into batches of similar length, keeping each row's index.
    static func batched(_ rows: [[Int]], padID: Int, batchSize: Int) throws -> [PromptBatch] {
        guard !rows.isEmpty else { throw SinkError.emptyPromptSet }
        if let empty = rows.firstIndex(where: \.isEmpty) { throw SinkError.emptyPrompt(index: empty) }
        guard batchSize >= 1 else { throw SinkError.invalidOption(name: "batchSize", value: "\(batchSize)", expected: "at least 1") }
        let order = rows.indices.sorted { (rows[$0].count, $0) < (rows[$1].count, $1) }
        return stride(from: 0, to: order.count, by: batchSize).map { start in
            let indices = Array(order[start..<min(start + batchSize, order.count)])
            return PromptBatch(tokens: TokenBatch(rows: indices.map { rows[$0] }, padID: padID), promptIndices: indices)
        }
    }

    /// The shared driver: validates every prompt, then one forward pass per batch.
    static func analyse(
        model: Transformer,
        prompts: [PromptBatch],
        bosPrepended: Bool,
        options: SinkOptions,
        progressOffset: Int,
        progressTotal: Int,
        tokenText: (Int) -> String
    ) throws -> SinkStatistics {
        try options.validate()
        guard prompts.contains(where: { $0.tokens.batch > 0 }) else { throw SinkError.emptyPromptSet }
        for batch in prompts { try validate(batch, config: model.config) }
        let pass = SinkPass(model: model, bosPrepended: bosPrepended, options: options)
        var done = progressOffset
        for batch in prompts {
            try pass.process(batch)
            done += batch.tokens.batch
            options.progress?(done, progressTotal)
        }
        return pass.finish(tokenText: tokenText)
    }

    /// Throws the model's own errors for a prompt that cannot run, naming the prompt by its index in the set.
    static func validate(_ batch: PromptBatch, config: TransformerConfig) throws {
        let tokens = batch.tokens
        for r in 0..<tokens.batch {
            let prompt = batch.promptIndices[r], n = tokens.lengths[r]
            if n == 0 { throw SinkError.emptyPrompt(index: prompt) }
            if n > config.contextLength {
                throw ModelError.promptTooLong(row: prompt, length: n, contextLength: config.contextLength)
            }
            for p in 0..<n {
                let id = Int(tokens.ids[r * tokens.positions + p])
                if id < 0 || id >= config.vocabSize {
                    throw ModelError.tokenOutOfRange(row: prompt, position: p, id: id, vocabSize: config.vocabSize)
                }
            }
        }
    }
}

/// One analysis in progress: forward passes whose read-only interventions on `hook_pattern`
/// and `hook_resid_post` feed a shared ``SinkAccumulator`` while each pass runs.
final class SinkPass: Sendable {
    let model: Transformer
    let state: Mutex<SinkAccumulator>

    init(model: Transformer, bosPrepended: Bool, options: SinkOptions) {
        let config = model.config
        self.model = model
        state = Mutex(SinkAccumulator(layers: config.layers, heads: config.heads, thresholds: options.thresholds,
                                      bosPrepended: bosPrepended, recordLimit: options.recordLimit))
    }

    /// One forward pass (no logits) over a validated batch, reduced on the fly.
    func process(_ batch: PromptBatch) throws {
        state.withLock { $0.addPrompts(batch) }
        var interventions: [Intervention] = []
        for layer in 0..<model.config.layers {
            interventions.append(Intervention(.pattern(layer), .custom { [self] pattern, _ in
                state.withLock { $0.addPatterns(pattern, layer: layer, batch: batch) }
            }))
            interventions.append(Intervention(.residPost(layer), .custom { [self] residual, _ in
                state.withLock { $0.addResidual(residual, layer: layer, batch: batch) }
            }))
        }
        _ = try model.run(batch.tokens, logits: .none, interventions: interventions)
    }

    /// The statistics of every batch processed so far.
    func finish(tokenText: (Int) -> String) -> SinkStatistics {
        state.withLock { $0 }.finish(tokenText: tokenText)
    }
}
