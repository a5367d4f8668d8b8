import MechanicModel
import MechanicTensor

/// Interventions that run the model with a set of edges patched: along a patched edge s → r the
/// receiver r sees sender s's replacement output (counterfactual, mean or zero) instead of what s
/// writes in this run; every other edge carries the run's own values.
///
/// Built on the hook machinery, without a copy of the residual stream per edge: the run keeps
/// `difference[s] = current_s − replacement_s` for each sender as it is computed, and each
/// receiver with patched edges gets `x_r = resid − strength · Σ_{s patched into r} difference[s]`
/// (one matrix product per hook), from which ``ReceiverMath`` recomputes the receiver's value and
/// writes it into the hook. Later layers therefore see the effect of earlier patches, as in MIB's
/// and EAP-IG's evaluation. Runs start at layer 0 (the input sender is read at `hook_resid_pre` 0).
///
/// With Gemma's post-norms the patched heads of one layer act together through the norm
/// (``AttentionPostNorm``): `x_r = resid − Σ_{additive s} difference[s]
/// + Σ_l [post_l(A_l − Σ_{patched heads of l} difference[h]) − post_l(A_l)]`, where `A_l` is the
/// run's own pre-norm attention sum.
struct EdgePatch {
    let math: ReceiverMath
    let graph: ComputationalGraph
    /// For each receiver (graph.receivers order), the indices (into `graph.senders`) of its patched senders.
    let patchedSenders: [[Int]]
    /// For each receiver, the patched senders whose difference adds to its residual as it is:
    /// all of them, or with post-norms all but the heads.
    let additiveSenders: [[Int]]
    /// For each receiver, with post-norms, its patched heads by layer.
    let postNormedHeads: [[(layer: Int, senders: [Int])]]

    /// - Parameter patched: one flag per edge of `graph`, in `graph.edges` order.
    init(math: ReceiverMath, graph: ComputationalGraph, patched: [Bool]) {
        precondition(patched.count == graph.edges.count, "one flag per edge")
        let senderIndex = Dictionary(uniqueKeysWithValues: graph.senders.enumerated().map { ($0.element, $0.offset) })
        let receiverIndex = Dictionary(uniqueKeysWithValues: graph.receivers.enumerated().map { ($0.element, $0.offset) })
        var lists = [[Int]](repeating: [], count: graph.receivers.count)
        for (i, edge) in graph.edges.enumerated() where patched[i] {
            lists[receiverIndex[edge.receiver]!].append(senderIndex[edge.sender]!)
        }
        (self.math, self.graph, self.patchedSenders) = (math, graph, lists)
        guard math.postNorm != nil else {
            (additiveSenders, postNormedHeads) = (lists, lists.map { _ in [] })
            return
        }
        func headLayer(_ s: Int) -> Int? {
            if case .head(let h) = graph.senders[s] { return h.layer }
            return nil
        }
        additiveSenders = lists.map { $0.filter { headLayer($0) == nil } }
        postNormedHeads = lists.map { senders in
            Dictionary(grouping: senders.filter { headLayer($0) != nil }, by: { headLayer($0)! })
                .sorted { $0.key < $1.key }.map { (layer: $0.key, senders: $0.value) }
        }
    }

    var patchesAnything: Bool { patchedSenders.contains { !$0.isEmpty } }

    /// The interventions for one run on the batch `replacement` was computed for.
    ///
    /// - Parameter strength: how much of each patched difference to apply (1 patches; the
    ///   finite-difference tests use small values).
    ///   - startLayer: the layer the run starts at (`Transformer.run(_:fromLayer:residual:…)` from the
    ///     clean residual); every patched receiver must be in it or later. The senders of earlier
    ///     layers then run clean, so their differences come from `clean`.
    ///   - clean: the senders' clean outputs, needed when `startLayer > 0`.
    func interventions(replacement: SenderOutputs, strength: Float = 1, startLayer: Int = 0, clean: SenderOutputs? = nil) -> [Intervention] {
        guard patchesAnything else { return [] }
        let math = self.math, graph = self.graph, patchedSenders = self.patchedSenders
        let state = EdgePatchState(replacement: replacement)
        if startLayer > 0 {
            precondition(clean != nil, "a run from a later layer needs the clean outputs of the senders before it")
            let n = replacement.rows * replacement.dModel
            for (s, sender) in graph.senders.enumerated() where EdgePatch.layer(of: sender) < startLayer {
                for i in 0..<n { state.difference[s * n + i] = clean!.storage[s * n + i] - replacement.storage[s * n + i] }
            }
            if let post = math.postNorm {
                for layer in 0..<startLayer { state.attentionOutputs[layer] = post.output(layer: layer, sum: post.preNormSum(layer: layer, outputs: clean!, graph: graph)) }
            }
        }
        let c = math.config
        let (additiveSenders, postNormedHeads) = (self.additiveSenders, self.postNormedHeads)
        let neededSenders = Set(patchedSenders.joined())
        let receivers = graph.receivers.indices.filter { !patchedSenders[$0].isEmpty }
        let residualHooks = Set(receivers.map { math.inputHook(graph.receivers[$0]) })
        var list: [Intervention] = []

        func record(_ hook: HookName, sender: Int?) {
            let keep = residualHooks.contains(hook)
            guard keep || sender != nil else { return }
            list.append(Intervention(hook, .custom { t, _ in
                if keep { state.residuals[hook] = t.storage }
                if let sender { state.setDifference(sender, current: t.storage) }
            }))
        }
        let senderIndex = Dictionary(uniqueKeysWithValues: graph.senders.enumerated().map { ($0.element, $0.offset) })
        if startLayer == 0 { record(.residPre(0), sender: neededSenders.contains(0) ? 0 : nil) }
        for layer in startLayer..<c.layers {
            if layer > 0 { record(.residPre(layer), sender: nil) }
            let heads = (0..<c.heads).compactMap { h -> (Int, Int)? in
                let s = senderIndex[.head(HeadID(layer: layer, head: h))]!
                return neededSenders.contains(s) ? (h, s) : nil
            }
            if !heads.isEmpty {
                let wo = math.model.weights.blocks[layer].attnOutWeight
                list.append(Intervention(.z(layer), .custom { z, _ in
                    if let post = math.postNorm { state.attentionOutputs[layer] = post.output(layer: layer, sum: post.preNormSum(layer: layer, z: z)) }
                    let (d, hc, dh) = (c.dModel, c.heads, c.dHead)
                    let rows = z.count / (hc * dh)
                    var out = [Float](repeating: 0, count: rows * d)
                    for (h, s) in heads {
                        z.storage.withUnsafeBufferPointer { zs in
                            wo.storage.withUnsafeBufferPointer { w in
                                out.withUnsafeMutableBufferPointer { o in
                                    Kernels.gemm(m: rows, n: d, k: dh, a: zs.baseAddress! + h * dh, lda: hc * dh,
                                                 b: w.baseAddress! + h * dh * d, ldb: d, c: o.baseAddress!, ldc: d)
                                }
                            }
                        }
                        state.setDifference(s, current: out)
                    }
                }))
            }
            if !c.attentionOnly {
                if !c.parallelBlocks { record(.residMid(layer), sender: nil) }
                let s = senderIndex[.mlp(layer: layer)]!
                record(.mlpOut(layer), sender: neededSenders.contains(s) ? s : nil)
            }
        }
        record(.residPost(c.layers - 1), sender: nil)

        // The receivers, grouped by the hook their value is written to, in forward order.
        var byHook: [HookName: [Int]] = [:]
        for r in receivers { byHook[math.valueHook(graph.receivers[r]), default: []].append(r) }
        for hook in byHook.keys.sorted() {
            let group = byHook[hook]!
            list.append(Intervention(hook, .custom { t, _ in
                for r in group {
                    let receiver = graph.receivers[r]
                    var x = state.patchedInput(math.inputHook(receiver), senders: additiveSenders[r], strength: strength)
                    for (layer, heads) in postNormedHeads[r] {
                        let shift = math.postNorm!.shift(layer: layer, from: state.attentionOutputs[layer]!,
                                                         delta: state.combined(heads, scale: -strength))
                        for i in x.indices { x[i] += shift[i] }
                    }
                    math.write(receiver, value: math.value(receiver, input: x, rows: state.rows), into: &t)
                }
            }))
        }
        return list
    }
}

extension EdgePatch {
    /// The layer a sender writes in (−1 for the input).
    static func layer(of sender: ComputationalGraph.Node) -> Int {
        switch sender {
        case .input: return -1
        case .head(let h): return h.layer
        case .mlp(let layer): return layer
        case .logits: return Int.max
        }
    }

    /// The layer a receiver reads in (the last layer for the logits, whose input is its `hook_resid_post`).
    static func layer(of receiver: ComputationalGraph.Receiver, layers: Int) -> Int {
        switch receiver {
        case .query(let h): return h.layer
        case .key(let layer, _), .value(let layer, _), .mlp(let layer): return layer
        case .logits: return layers - 1
        }
    }
}

/// The mutable side of one patched run: differences and residuals recorded as the forward pass
/// reaches them. Lives for one run; the forward pass is sequential, so access is never concurrent.
final class EdgePatchState: @unchecked Sendable {
    let replacement: SenderOutputs
    var rows: Int { replacement.rows }
    /// `[senders, rows, dModel]`: current − replacement for the senders seen so far (zero otherwise).
    var difference: [Float]
    var residuals: [HookName: [Float]] = [:]
    /// With post-norms, each layer's attention sum `A_l` in this run and its normed output.
    var attentionOutputs: [Int: AttentionPostNorm.Output] = [:]

    init(replacement: SenderOutputs) {
        self.replacement = replacement
        difference = [Float](repeating: 0, count: replacement.storage.count)
    }

    func setDifference(_ sender: Int, current: [Float]) {
        let n = rows * replacement.dModel
        precondition(current.count == n, "the run's batch must be the one the replacement outputs were computed for")
        let base = sender * n
        for i in 0..<n { difference[base + i] = current[i] - replacement.storage[base + i] }
    }

    /// `scale · Σ_{s ∈ senders} difference[s]`, `[rows, dModel]`.
    func combined(_ senders: [Int], scale: Float) -> [Float] {
        let n = rows * replacement.dModel
        var out = [Float](repeating: 0, count: n)
        for s in senders { for i in 0..<n { out[i] += scale * difference[s * n + i] } }
        return out
    }

    /// `resid − strength · Σ_{s ∈ senders} difference[s]`, `[rows, dModel]`.
    func patchedInput(_ hook: HookName, senders: [Int], strength: Float) -> [Float] {
        var x = residuals[hook]!
        let n = rows * replacement.dModel
        // One product: the 0/1 row of patched senders times the [senders, n] differences.
        var mask = [Float](repeating: 0, count: replacement.senders)
        for s in senders { mask[s] = 1 }
        difference.withUnsafeBufferPointer { dp in
            mask.withUnsafeBufferPointer { m in
                x.withUnsafeMutableBufferPointer { xp in
                    Kernels.gemm(m: 1, n: n, k: replacement.senders, alpha: -strength, a: m.baseAddress!, lda: replacement.senders,
                                 b: dp.baseAddress!, ldb: n, beta: 1, c: xp.baseAddress!, ldc: n)
                }
            }
        }
        return x
    }
}
