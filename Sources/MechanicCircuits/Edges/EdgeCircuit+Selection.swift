extension EdgeCircuit {
    /// How a circuit of n edges is chosen from edge scores.
    public enum Selection: String, Codable, CaseIterable, Sendable {
        /// The n best edges anywhere in the graph, then pruned (EAP-IG's `apply_topn`, MIB's default).
        case top
        /// Grown from the logits: each step adds the best edge into a node already in the circuit,
        /// and that edge's sender joins it (EAP-IG's `apply_greedy`), then pruned. Every chosen edge
        /// reaches the logits, so fewer are lost to pruning than with `top`.
        case greedy
    }

    /// The circuit of `count` edges that `selection` chooses.
    public static func select(_ selection: Selection, _ count: Int, scores: [Float], in graph: ComputationalGraph,
                              absolute: Bool = true) -> EdgeCircuit {
        switch selection {
        case .top: top(count, scores: scores, in: graph, absolute: absolute)
        case .greedy: greedy(count, scores: scores, in: graph, absolute: absolute)
        }
    }

    /// ``Selection/greedy``: starting from the logits, `count` times the best-scored edge (by
    /// |score| when `absolute`; ties by the lower edge index; NaN never) among those entering a
    /// node already in the circuit; a head counts as entered through its query or its key/value
    /// group. Stops early when no candidate is left. Then pruned (see ``pruned(in:)``).
    ///
    /// A heap of candidate ranks keeps it O(E log E); the tests compare it with a plain rescan.
    public static func greedy(_ count: Int, scores: [Float], in graph: ComputationalGraph, absolute: Bool = true,
                              prune: Bool = true) -> EdgeCircuit {
        precondition(scores.count == graph.edges.count, "one score per edge")
        let key = { (i: Int) -> Float in absolute ? abs(scores[i]) : scores[i] }
        let order = scores.indices.filter { !scores[$0].isNaN }.sorted { key($0) != key($1) ? key($0) > key($1) : $0 < $1 }
        var rank = [Int?](repeating: nil, count: scores.count)
        for (r, e) in order.enumerated() { rank[e] = r }
        var into: [ComputationalGraph.Node: [Int]] = [:]                        // node → edges entering it
        for (e, edge) in graph.edges.enumerated() {
            for node in graph.nodes(fedBy: edge.receiver) { into[node, default: []].append(e) }
        }
        var inCircuit: Set<ComputationalGraph.Node> = [.logits]
        var queued = [Bool](repeating: false, count: scores.count)
        var candidates = MinHeap()
        func open(_ node: ComputationalGraph.Node) {
            for e in into[node] ?? [] where !queued[e] {
                queued[e] = true
                if let r = rank[e] { candidates.push(r) }
            }
        }
        open(.logits)
        var included = [Bool](repeating: false, count: scores.count)
        var left = max(0, count)
        while left > 0, let r = candidates.pop() {
            let e = order[r]
            included[e] = true
            left -= 1
            let sender = graph.edges[e].sender
            if inCircuit.insert(sender).inserted { open(sender) }
        }
        let circuit = EdgeCircuit(included: included)
        return prune ? circuit.pruned(in: graph) : circuit
    }
}

/// A binary min-heap of ranks.
private struct MinHeap {
    private var items: [Int] = []

    mutating func push(_ value: Int) {
        items.append(value)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[parent] > items[i] else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var i = 0
        while true {
            let (l, r) = (2 * i + 1, 2 * i + 2)
            var smallest = i
            if l < items.count && items[l] < items[smallest] { smallest = l }
            if r < items.count && items[r] < items[smallest] { smallest = r }
            guard smallest != i else { return first }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
