import MechanicTensor
import MechanicTokenizer

/// Which positions get logits: most analyses need only the last one, and skipping the
/// rest skips most of the unembedding's work.
public enum LogitsSelection: Sendable, Equatable {
    /// No logits (activations only).
    case none
    /// Every position of the padded batch: `[batch, pos, vocab]`.
    case all
    /// The last real token of each row: `[batch, 1, vocab]`.
    case last
    /// Chosen positions, negatives counting back from each row's end: `[batch, count, vocab]`.
    case positions([Int])

    var positionSelection: PositionSelection? {
        switch self {
        case .none: return nil
        case .all: return .all
        case .last: return .last
        case .positions(let list): return .indices(list)
        }
    }
}

/// What a run returns.
public struct ForwardOutput: Sendable {
    /// `[batch, selectedPos, vocab]`, or `nil` for ``LogitsSelection/none``.
    public var logits: Tensor?
    /// The activations the run was asked to capture.
    public var cache: ActivationCache
}

/// A decoder-only transformer of any supported family (GPT-2, GPT-NeoX/Pythia, Llama, Mistral,
/// Qwen2, Qwen3, Gemma 2, Gemma 3), computing exactly what Hugging Face's model does, with
/// TransformerLens hook points; also tracr's compiled programs (no norms, bidirectional attention),
/// computing what tracr computes.
///
/// One forward pass serves every family: its ``TransformerConfig`` says which norm, positions,
/// attention and MLP variants to use, so every hook exists in the same place in every family.
/// The model is an immutable value: hooks are arguments of each run, never state, so a run
/// cannot leak hooks into the next. The forward pass reads top to bottom in ``run(_:logits:capture:interventions:)``;
/// each component lives in its own file (`Transformer+Attention.swift`, …).
public struct Transformer: Sendable {
    public let config: TransformerConfig
    public let weights: TransformerWeights
    /// Cosines and sines of each rotary embedding the layers use, for the first
    /// ``RotaryTable/precomputedPositions`` positions (longer prompts compute their own).
    let rotaryTables: [Rotary: RotaryTable]

    /// Wraps weights after checking every shape against the configuration.
    public init(config: TransformerConfig, weights: TransformerWeights) throws {
        if let problem = config.problem() { throw ModelError.invalidConfig(file: "config", reason: problem) }
        let expected = TransformerWeights.expectedShapes(for: config)
        for (path, shape) in expected {
            guard let t = weights.tensor(at: path) else { throw ModelError.missingTensor(file: "weights", tensor: path) }
            if t.shape != shape { throw ModelError.wrongShape(file: "weights", tensor: path, expected: shape, found: t.shape) }
        }
        self.config = config
        self.weights = weights
        var tables: [Rotary: RotaryTable] = [:]
        for layer in 0..<config.layers {
            guard let rotary = config.rotary(layer: layer), tables[rotary] == nil else { continue }
            tables[rotary] = RotaryTable(rotary, positions: min(config.contextLength, RotaryTable.precomputedPositions))
        }
        self.rotaryTables = tables
    }

    /// Every hook name of this model, in forward order.
    public var hookNames: [HookName] { HookName.all(for: config) }

    /// Runs the model on a batch.
    ///
    /// - Parameters:
    ///   - batch: right-padded token ids; every row must fit the context.
    ///   - logits: which positions to unembed.
    ///   - vocabulary: when given, only these token ids are unembedded, and the logits' last axis
    ///     holds them in this order (a logit difference needs two of GPT-2's 50,257).
    ///   - capture: which activations to record (and at which positions).
    ///   - interventions: edits applied at hook points, in the order given.
    /// - Throws: ``ModelError`` for prompts longer than the context, token ids outside the
    ///   vocabulary, unknown hooks, or interventions that do not fit.
    public func run(
        _ batch: TokenBatch,
        logits: LogitsSelection = .all,
        vocabulary: [Int]? = nil,
        capture: CaptureSpec? = nil,
        interventions: [Intervention] = []
    ) throws -> ForwardOutput {
        try validate(batch, vocabulary: vocabulary)
        var hooks = try HookRunner(batch: batch, config: config, capture: capture, interventions: interventions)
        let residual = try embed(batch, hooks: &hooks)                       // [batch, pos, dModel]
        let out = try forward(from: 0, residual, logits: logits, vocabulary: vocabulary, hooks: &hooks)
        return ForwardOutput(logits: out, cache: hooks.cache)
    }

    /// Runs blocks `layer...` from a given residual stream (`blocks.{layer}.hook_resid_pre`).
    ///
    /// Activation patching uses this to recompute only the layers at and after a patched head.
    public func run(
        _ batch: TokenBatch,
        fromLayer layer: Int,
        residual: Tensor,
        logits: LogitsSelection = .all,
        vocabulary: [Int]? = nil,
        capture: CaptureSpec? = nil,
        interventions: [Intervention] = []
    ) throws -> ForwardOutput {
        try validate(batch, vocabulary: vocabulary)
        guard layer >= 0 && layer <= config.layers else { throw ModelError.layerOutOfRange(layer: layer, layers: config.layers) }
        let shape = [batch.batch, batch.positions, config.dModel]
        guard residual.shape == shape else {
            throw ModelError.interventionShape(hook: HookName.residPre(min(layer, config.layers - 1)).description, expected: shape, found: residual.shape)
        }
        var hooks = try HookRunner(batch: batch, config: config, capture: capture, interventions: interventions)
        let out = try forward(from: layer, residual, logits: logits, vocabulary: vocabulary, hooks: &hooks)
        return ForwardOutput(logits: out, cache: hooks.cache)
    }

    /// Blocks `first...` and the final norm and unembedding, as far as the run needs them.
    ///
    /// A run without logits stops after the last hook it captures or edits, since nothing after
    /// it can show: capturing `hook_z` of every layer skips the last block's W_O and MLP and the
    /// final norm (about 6% of a GPT-2-small forward pass).
    func forward(from first: Int, _ residual: Tensor, logits: LogitsSelection, vocabulary: [Int]?,
                 hooks: inout HookRunner) throws -> Tensor? {
        let extent = ForwardExtent(layers: config.layers, logits: logits, lastHook: hooks.lastActive)
        var x = residual                                                     // [batch, pos, dModel]
        for layer in first..<max(first, extent.blocks) {
            if layer == extent.blocks - 1 && extent.lastBlockStopsAfterZ {
                try blockThroughZ(layer, x, hooks: &hooks)
            } else if extent.final && lastBlockRunsAtLastPositions(layer, logits: logits, hooks: hooks) {
                return try lastBlockAtLastPositions(layer, x, vocabulary: vocabulary, hooks: &hooks)
            } else {
                x = try blockForward(layer, x, hooks: &hooks)
            }
        }
        return extent.final ? try finalForward(x, logits: logits, vocabulary: vocabulary, hooks: &hooks) : nil
    }

    /// How much of the model a run has to compute.
    struct ForwardExtent: Equatable {
        /// Blocks to run, counted from block 0.
        var blocks: Int
        /// Whether the last of those blocks stops after `hook_z` (no W_O, no MLP).
        var lastBlockStopsAfterZ: Bool
        /// Whether to run the final norm (and the unembedding, when logits are asked for).
        var final: Bool
    }

    /// Rejects prompts that do not fit the context or use ids outside the vocabulary, and
    /// vocabulary selections with ids outside it.
    public func validate(_ batch: TokenBatch, vocabulary: [Int]? = nil) throws {
        if let bad = vocabulary?.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ModelError.vocabularyOutOfRange(id: bad, vocabSize: config.vocabSize)
        }
        for r in 0..<batch.batch {
            if batch.lengths[r] > config.contextLength {
                throw ModelError.promptTooLong(row: r, length: batch.lengths[r], contextLength: config.contextLength)
            }
            for p in 0..<batch.positions {
                let id = Int(batch.ids[r * batch.positions + p])
                if id < 0 || id >= config.vocabSize {
                    throw ModelError.tokenOutOfRange(row: r, position: p, id: id, vocabSize: config.vocabSize)
                }
            }
        }
    }

    /// The first part of a block, up to `hook_z`: `resid_pre`, `ln1` and attention without W_O.
    func blockThroughZ(_ layer: Int, _ input: Tensor, hooks: inout HookRunner) throws {
        var residual = input                                                 // [batch, pos, dModel]
        try hooks.visit(.residPre(layer), &residual)
        if zIsReplaced(layer, hooks: hooks) {
            _ = try replacedZ(layer, batch: residual.shape[0], positions: residual.shape[1], hooks: &hooks)
            return
        }
        let w = weights.blocks[layer]
        let normed = try normForward(residual, gain: w.ln1Gain, bias: w.ln1Bias,
                                     scaleHook: .ln1Scale(layer), normalizedHook: .ln1Normalized(layer), hooks: &hooks)
        _ = try attentionZ(layer, normed, hooks: &hooks)                     // [batch, pos, head, dHead]
    }

    /// One transformer block.
    ///
    /// Sequential (GPT-2, Llama, …): `resid_mid = resid_pre + attn(ln1(resid_pre))`,
    /// `resid_post = resid_mid + mlp(ln2(resid_mid))`. Parallel (GPT-NeoX): both read `resid_pre`,
    /// `resid_post = resid_pre + attn(ln1(resid_pre)) + mlp(ln2(resid_pre))`, and there is no
    /// `hook_resid_mid`. Gemma's post-norms (`ln1_post`, `ln2_post`) norm each output before
    /// its `hook_attn_out` / `hook_mlp_out`.
    func blockForward(_ layer: Int, _ input: Tensor, hooks: inout HookRunner) throws -> Tensor {
        var residual = input                                                 // [batch, pos, dModel]
        try hooks.visit(.residPre(layer), &residual)
        let w = weights.blocks[layer]
        var attnOut = try attentionSublayer(layer, residual, hooks: &hooks)  // [batch, pos, dModel]
        if let gain = w.attnPostNormGain {
            attnOut = try normForward(attnOut, gain: gain, bias: nil, scaleHook: .ln1PostScale(layer),
                                      normalizedHook: .ln1PostNormalized(layer), hooks: &hooks)
        }
        try hooks.visit(.attnOut(layer), &attnOut)
        guard let mlp = w.mlp else {
            residual.add(attnOut)
            try hooks.visit(.residPost(layer), &residual)
            return residual
        }
        let mlpInput: Tensor                                                 // [batch, pos, dModel]
        if config.parallelBlocks {
            mlpInput = residual
        } else {
            residual.add(attnOut)
            try hooks.visit(.residMid(layer), &residual)
            mlpInput = residual
        }
        let normed2 = try normForward(mlpInput, gain: mlp.ln2Gain, bias: mlp.ln2Bias,
                                      scaleHook: .ln2Scale(layer), normalizedHook: .ln2Normalized(layer), hooks: &hooks)
        var mlpOut = try mlpForward(layer, mlp, normed2, hooks: &hooks)      // [batch, pos, dModel]
        if let gain = mlp.postNormGain {
            mlpOut = try normForward(mlpOut, gain: gain, bias: nil, scaleHook: .ln2PostScale(layer),
                                     normalizedHook: .ln2PostNormalized(layer), hooks: &hooks)
        }
        try hooks.visit(.mlpOut(layer), &mlpOut)
        if config.parallelBlocks { residual.add(attnOut) }
        residual.add(mlpOut)
        try hooks.visit(.residPost(layer), &residual)
        return residual
    }
}

extension Transformer.ForwardExtent {
    /// Logits need everything; otherwise the run ends at the block of its last active hook.
    init(layers: Int, logits: LogitsSelection, lastHook: HookName?) {
        (blocks, lastBlockStopsAfterZ, final) = (layers, false, true)
        guard logits == .none else { return }
        guard let last = lastHook else { (blocks, final) = (0, false); return }
        guard let layer = last.layer else {
            if last.point == .embed || last.point == .posEmbed { (blocks, final) = (0, false) }
            return
        }
        (blocks, lastBlockStopsAfterZ, final) = (layer + 1, last.point.order <= HookPoint.z.order, false)
    }
}

extension Tensor {
    /// `self += other`, element-wise (same shape).
    mutating func add(_ other: Tensor) {
        precondition(shape == other.shape)
        storage.withUnsafeMutableBufferPointer { y in
            other.storage.withUnsafeBufferPointer { x in
                Kernels.add(x.baseAddress!, into: y.baseAddress!, count: x.count)
            }
        }
    }
}
