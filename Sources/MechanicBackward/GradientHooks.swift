import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// The hook side of one gradient run: interventions applied in the forward pass, their effect
/// on the backward pass, and the activation gradients asked for.
///
/// An intervention that overwrites part of an activation (`replace`, `zero`, `mean`, `patch`)
/// makes that part a constant: the backward pass records the gradient at the hook (the gradient
/// of the value the rest of the model sees) and then zeroes it on the overwritten elements before
/// passing it upstream. `add` passes the gradient through unchanged. `custom` edits have no known
/// derivative and are rejected.
///
/// Lives only for the duration of a run, like the model's own hook runner.
struct GradientHooks {
    let batch: TokenBatch
    let config: TransformerConfig
    /// Hooks whose gradient the caller asked for.
    let requested: Set<HookName>
    private let edits: [HookName: [Intervention]]
    /// Gradients recorded so far, in TransformerLens shapes.
    private(set) var gradients: [HookName: Tensor] = [:]

    /// Hook points whose interventions the backward pass follows. Norm intermediates (`ln1`,
    /// `ln2`, `ln_final`, QK-norm, Gemma's post-norms), scores and pattern edits would need a
    /// different forward pass and are rejected; their gradients are still recorded when asked for.
    static let editablePoints: Set<HookPoint> = [
        .embed, .posEmbed, .residPre, .q, .k, .v, .rotQ, .rotK, .z, .result, .attnOut, .residMid,
        .mlpPre, .mlpPreLinear, .mlpPost, .mlpOut, .residPost,
    ]

    /// Validates the requested hooks and every intervention before any work is done.
    init(batch: TokenBatch, config: TransformerConfig, requested: [HookName], interventions: [Intervention]) throws {
        self.batch = batch
        self.config = config
        let known = Set(HookName.all(for: config))
        if let unknown = requested.first(where: { !known.contains($0) }) { throw ModelError.unknownHook(unknown.description) }
        self.requested = Set(requested)
        var grouped: [HookName: [Intervention]] = [:]
        for intervention in interventions {
            let name = intervention.hook
            guard known.contains(name) else { throw ModelError.unknownHook(name.description) }
            guard GradientHooks.editablePoints.contains(name.point) else {
                throw GradientError.unsupportedIntervention(
                    hook: name.description,
                    reason: "gradient runs follow interventions on the residual stream, embeddings, q/k/v, rot_q/rot_k, z, result, attn_out and MLP hooks only (not on norm scales and normalized values, scores or patterns); run the edited model with Transformer.run instead")
            }
            if case .custom = intervention.action {
                throw GradientError.unsupportedIntervention(
                    hook: name.description,
                    reason: "a custom edit has no known derivative; express it as replace, add, zero, mean or patch")
            }
            try intervention.validate(batch: batch, config: config)
            grouped[name, default: []].append(intervention)
        }
        self.edits = grouped
    }

    /// Whether the hook has interventions.
    func isEdited(_ name: HookName) -> Bool { edits[name] != nil }

    /// Whether the caller asked for the hook's gradient.
    func wants(_ name: HookName) -> Bool { requested.contains(name) }

    /// The lowest block the backward pass must reach to record every requested gradient
    /// (0 when an embedding hook is requested, `layers` when nothing is).
    var lowestRequestedLayer: Int {
        requested.map { name in
            if let layer = name.layer { return layer }
            return name == .embed || name == .posEmbed ? 0 : config.layers
        }.min() ?? config.layers
    }

    /// Forward pass: applies the hook's interventions, in order, to its activation (TransformerLens shape).
    func apply(_ name: HookName, to t: inout Tensor) {
        guard let list = edits[name] else { return }
        for intervention in list { intervention.write(into: &t, batch: batch) }
    }

    /// Backward pass: zeroes the gradient on every element an intervention overwrote.
    func blockOverwritten(_ name: HookName, in gradient: inout Tensor) {
        guard let list = edits[name] else { return }
        for intervention in list {
            if case .add = intervention.action { continue }
            let (offsets, run) = intervention.selection(shape: gradient.shape, batch: batch)
            gradient.storage.withUnsafeMutableBufferPointer { g in
                for offset in offsets { (g.baseAddress! + offset).update(repeating: 0, count: run) }
            }
        }
    }

    /// Records a gradient if it was asked for, reshaped to the hook's TransformerLens shape.
    mutating func record(_ name: HookName, _ gradient: @autoclosure () -> Tensor) {
        guard requested.contains(name) else { return }
        let shape = name.point.shape(batch: batch.batch, positions: batch.positions, config: config)
        gradients[name] = gradient().reshaped(shape)
    }
}
