import MechanicTensor
import MechanicTokenizer

/// Applies one run's interventions and captures at each hook point it passes.
///
/// Lives only for the duration of a run: nothing here is stored in the model.
struct HookRunner {
    let batch: TokenBatch
    let config: TransformerConfig
    let capture: CaptureSpec?
    let interventions: [HookName: [Intervention]]
    let capturedNames: Set<HookName>
    var cache: ActivationCache

    /// Validates every intervention against the model and batch before any work is done.
    init(batch: TokenBatch, config: TransformerConfig, capture: CaptureSpec?, interventions: [Intervention]) throws {
        self.batch = batch
        self.config = config
        self.capture = capture
        let known = HookName.all(for: config)
        self.capturedNames = Set(known.filter { capture?.filter($0) ?? false })
        var grouped: [HookName: [Intervention]] = [:]
        for intervention in interventions {
            guard known.contains(intervention.hook) else { throw ModelError.unknownHook(intervention.hook.description) }
            try intervention.validate(batch: batch, config: config)
            grouped[intervention.hook, default: []].append(intervention)
        }
        self.interventions = grouped
        self.cache = ActivationCache(positions: capture?.positions ?? .all)
        self.lastActive = capturedNames.union(grouped.keys).max()
    }

    /// The last hook in forward order that is captured or edited: a run without logits can stop there.
    let lastActive: HookName?

    /// Whether anything happens at this hook: the forward pass only materialises activations that are.
    @inline(__always)
    func isActive(_ name: HookName) -> Bool {
        capturedNames.contains(name) || interventions[name] != nil
    }

    /// Whether this hook is edited (its activation may change).
    @inline(__always)
    func isEdited(_ name: HookName) -> Bool {
        interventions[name] != nil
    }

    /// Whether the first edit of this hook overwrites every element (`replace` or `patch` with no
    /// head or position restriction), so the hook's own value is never read.
    func replacesEntirely(_ name: HookName) -> Bool {
        guard let first = interventions[name]?.first, first.heads == nil, first.positions == nil else { return false }
        switch first.action {
        case .replace, .patch: return true
        default: return false
        }
    }

    /// Runs the interventions on an activation, then records it if captured.
    ///
    /// - Returns: whether the activation was edited.
    @discardableResult
    mutating func visit(_ name: HookName, _ activation: inout Tensor) throws -> Bool {
        var edited = false
        if let list = interventions[name] {
            for intervention in list { try apply(intervention, to: &activation) }
            edited = true
        }
        if capturedNames.contains(name) {
            cache[name] = try select(activation, point: name.point, positions: cache.positions, hook: name)
        }
        return edited
    }

    // MARK: - capture

    /// The activation restricted to the requested positions along its position axis.
    func select(_ t: Tensor, point: HookPoint, positions: PositionSelection, hook: HookName) throws -> Tensor {
        if positions == .all { return t }
        let axis = point.positionAxis
        let slots = positions.count(positions: batch.positions)
        var shape = t.shape
        shape[axis] = slots
        let outer = t.shape[1..<axis].reduce(1, *)       // axes between batch and position
        let inner = t.shape[(axis + 1)...].reduce(1, *)  // axes after position
        let length = t.shape[axis]
        var out = Tensor(shape: shape)
        try t.storage.withUnsafeBufferPointer { src in
            try out.storage.withUnsafeMutableBufferPointer { dst in
                for b in 0..<t.shape[0] {
                    for slot in 0..<slots {
                        guard let p = positions.position(slot: slot, rowLength: batch.lengths[b], positions: length) else {
                            throw ModelError.positionOutOfRange(hook: hook.description, position: slotValue(positions, slot), length: batch.lengths[b])
                        }
                        for o in 0..<outer {
                            let from = ((b * outer + o) * length + p) * inner
                            let to = ((b * outer + o) * slots + slot) * inner
                            (dst.baseAddress! + to).update(from: src.baseAddress! + from, count: inner)
                        }
                    }
                }
            }
        }
        return out
    }

    private func slotValue(_ positions: PositionSelection, _ slot: Int) -> Int {
        if case .indices(let list) = positions { return list[slot] }
        return slot
    }

    // MARK: - interventions

    /// Runs one intervention on `t`: a custom closure (its result must keep the shape), or the
    /// shared selection rules (``Intervention/write(into:batch:)``).
    func apply(_ iv: Intervention, to t: inout Tensor) throws {
        guard case .custom(let body) = iv.action else { return iv.write(into: &t, batch: batch) }
        try body(&t, iv.hook)
        let expected = iv.hook.point.shape(batch: batch.batch, positions: batch.positions, config: config)
        if t.shape != expected { throw ModelError.interventionShape(hook: iv.hook.description, expected: expected, found: t.shape) }
    }
}
