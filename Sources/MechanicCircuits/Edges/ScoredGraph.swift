/// Edge scores of one method on one model's ``ComputationalGraph``: what EAP, EAP-IG, exact edge
/// patching and edge ACDC return, and what MIB's graph files hold.
///
/// A score is the change of the task metric when the edge is patched (counterfactual − clean
/// for EAP-style estimates, measured for exact patching), so its sign says whether the edge helps
/// (negative: patching it hurts) or hinders the task; circuits rank by |score| by default.
public struct ScoredGraph: Equatable, Sendable {
    public var method: String
    public var graph: ComputationalGraph
    /// One score per edge, in `graph.edges` order.
    public var scores: [Float]
    /// Wall time of the scoring, in seconds.
    public var seconds: Double

    public init(method: String, graph: ComputationalGraph, scores: [Float], seconds: Double) {
        precondition(scores.count == graph.edges.count, "one score per edge")
        (self.method, self.graph, self.scores, self.seconds) = (method, graph, scores, seconds)
    }

    /// Head scores that follow from the edges: a head's score is the total |score| of the edges it
    /// sends and of the edges into its query and its key/value group (a GQA group's key and value
    /// edges count for each of its heads). Comparable with head-level methods by ranking, not by scale.
    public func nodeScores() -> HeadScores {
        let heads = HeadID.all(layers: graph.layers, heads: graph.heads)
        let index = Dictionary(uniqueKeysWithValues: heads.enumerated().map { ($0.element, $0.offset) })
        var totals = [Float](repeating: 0, count: heads.count)
        for (i, edge) in graph.edges.enumerated() where !scores[i].isNaN {
            let value = abs(scores[i])
            if case .head(let h) = edge.sender { totals[index[h]!] += value }
            for case .head(let h) in graph.nodes(fedBy: edge.receiver) { totals[index[h]!] += value }
        }
        return HeadScores(method: method, heads: heads, scores: totals, seconds: seconds)
    }

    /// The circuit of `count` edges by |score|, dangling parts pruned: the best ones anywhere
    /// (``EdgeCircuit/top(_:scores:in:absolute:prune:)``) or grown from the logits
    /// (``EdgeCircuit/greedy(_:scores:in:absolute:prune:)``).
    public func circuit(edges count: Int, absolute: Bool = true, selection: EdgeCircuit.Selection = .top) -> EdgeCircuit {
        EdgeCircuit.select(selection, count, scores: scores, in: graph, absolute: absolute)
    }
}
