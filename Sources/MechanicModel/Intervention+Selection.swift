import MechanicTensor
import MechanicTokenizer

/// The selection rules of interventions, shared by the forward pass and the gradient pass:
/// which elements of an activation an intervention touches, and what it writes there.
extension Intervention {
    /// Checks the intervention against a model and batch: heads, positions and tensor shapes.
    ///
    /// - Throws: ``ModelError`` naming the hook and what does not fit.
    public func validate(batch: TokenBatch, config: TransformerConfig) throws {
        let name = hook.description
        if let heads {
            guard hook.point.headAxis != nil else { throw ModelError.headOutOfRange(hook: name, head: heads.first ?? 0, heads: 0) }
            if let bad = heads.first(where: { $0 < 0 || $0 >= config.heads }) {
                throw ModelError.headOutOfRange(hook: name, head: bad, heads: config.heads)
            }
        }
        if let positions {
            for r in 0..<batch.batch {
                if let bad = positions.first(where: { p in
                    let q = p < 0 ? batch.lengths[r] + p : p
                    return q < 0 || q >= batch.lengths[r]
                }) {
                    throw ModelError.positionOutOfRange(hook: name, position: bad, length: batch.lengths[r])
                }
            }
        }
        let shape = hook.point.shape(batch: batch.batch, positions: batch.positions, config: config)
        switch action {
        case .replace(let t):
            if t.shape != shape { throw ModelError.interventionShape(hook: name, expected: shape, found: t.shape) }
        case .add(let t), .mean(let t):
            if t.rank > shape.count || Array(shape.suffix(t.rank)) != t.shape {
                throw ModelError.interventionShape(hook: name, expected: shape, found: t.shape)
            }
        case .patch(let cache):
            guard let t = cache[hook], cache.positions == .all, t.shape == shape else {
                throw ModelError.missingPatchSource(hook: name)
            }
        case .zero, .custom:
            break
        }
    }

    /// Offsets of the contiguous runs the intervention selects in an activation of `shape`, and the run length.
    ///
    /// A run is the block of elements after the deepest constrained axis (position or head).
    public func selection(shape: [Int], batch: TokenBatch) -> (offsets: [Int], run: Int) {
        let point = hook.point
        let posAxis = point.positionAxis, headAxis = point.headAxis
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var deepest = 0
        if positions != nil { deepest = max(deepest, posAxis) }
        if heads != nil, let h = headAxis { deepest = max(deepest, h) }
        let headSet = heads.map(Set.init)
        var offsets: [Int] = []
        for b in 0..<shape[0] {
            let rowLength = batch.lengths[b]
            let positionSet: Set<Int>? = positions.map { Set($0.map { $0 < 0 ? rowLength + $0 : $0 }) }
            var index = [Int](repeating: 0, count: deepest + 1)
            index[0] = b
            func walk(_ axis: Int) {
                if axis > deepest {
                    offsets.append((0...deepest).reduce(0) { $0 + index[$1] * strides[$1] })
                    return
                }
                for i in 0..<shape[axis] {
                    if axis == posAxis, let positionSet, !positionSet.contains(i) { continue }
                    if axis == headAxis, let headSet, !headSet.contains(i) { continue }
                    index[axis] = i
                    walk(axis + 1)
                }
            }
            walk(1)
        }
        return (offsets, strides[deepest])
    }

    /// Writes the intervention's values into its selected runs of `t` (broadcasting `add` and
    /// `mean` sources over leading axes). `custom` edits are the caller's to run.
    public func write(into t: inout Tensor, batch: TokenBatch) {
        let source: Tensor?
        switch action {
        case .zero: source = nil
        case .replace(let s), .mean(let s), .add(let s): source = s
        case .patch(let cache): source = cache[hook]
        case .custom: preconditionFailure("custom edits run their own closure")
        }
        let adding: Bool
        if case .add = action { adding = true } else { adding = false }
        let (offsets, run) = selection(shape: t.shape, batch: batch)
        let sourceStorage = source?.storage ?? []
        t.storage.withUnsafeMutableBufferPointer { dst in
            for offset in offsets {
                for i in offset..<(offset + run) {
                    let value: Float = sourceStorage.isEmpty ? 0 : sourceStorage[i % sourceStorage.count]
                    if adding { dst[i] += value } else { dst[i] = value }
                }
            }
        }
    }
}
