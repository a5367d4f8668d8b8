/// A circuit as a set of edges of a ``ComputationalGraph``, chosen from edge scores.
public struct EdgeCircuit: Equatable, Sendable {
    /// Whether each edge (in `graph.edges` order) is in the circuit.
    public var included: [Bool]

    public init(included: [Bool]) {
        self.included = included
    }

    public var edgeCount: Int { included.filter { $0 }.count }

    /// The `count` best-scored edges (by |score| when `absolute`, else by signed score; ties
    /// broken by the lower edge index; NaN scores never chosen), then pruned (see ``pruned(in:)``).
    ///
    /// - Parameter scores: one score per edge of `graph`, in `graph.edges` order.
    public static func top(_ count: Int, scores: [Float], in graph: ComputationalGraph, absolute: Bool = true,
                           prune: Bool = true) -> EdgeCircuit {
        precondition(scores.count == graph.edges.count, "one score per edge")
        let key = { (i: Int) -> Float in absolute ? abs(scores[i]) : scores[i] }
        let ranked = scores.indices.filter { !scores[$0].isNaN }
            .sorted { key($0) != key($1) ? key($0) > key($1) : $0 < $1 }
        var included = [Bool](repeating: false, count: scores.count)
        for i in ranked.prefix(max(0, count)) { included[i] = true }
        let circuit = EdgeCircuit(included: included)
        return prune ? circuit.pruned(in: graph) : circuit
    }

    /// The circuit without dangling parts: a node stays only if it is the input or some edge in
    /// the circuit enters one of its receivers, and it is the logits or some edge in the circuit
    /// leaves it; an edge stays only if both its ends stay. Repeated until nothing changes, so
    /// what remains lies on paths from the input to the logits.
    public func pruned(in graph: ComputationalGraph) -> EdgeCircuit {
        var included = self.included
        while true {
            var fed = Set<ComputationalGraph.Node>([.input]), feeding = Set<ComputationalGraph.Node>([.logits])
            for (i, edge) in graph.edges.enumerated() where included[i] {
                for node in graph.nodes(fedBy: edge.receiver) { fed.insert(node) }
                feeding.insert(edge.sender)
            }
            var changed = false
            for (i, edge) in graph.edges.enumerated() where included[i] {
                let senderAlive = fed.contains(edge.sender) && feeding.contains(edge.sender)
                let receiverAlive = graph.nodes(fedBy: edge.receiver).contains { fed.contains($0) && feeding.contains($0) }
                if !senderAlive || !receiverAlive {
                    included[i] = false
                    changed = true
                }
            }
            if !changed { return EdgeCircuit(included: included) }
        }
    }

    /// The nodes the circuit touches (senders and the nodes its receivers feed).
    public func nodes(in graph: ComputationalGraph) -> Set<ComputationalGraph.Node> {
        var nodes = Set<ComputationalGraph.Node>()
        for (i, edge) in graph.edges.enumerated() where included[i] {
            nodes.insert(edge.sender)
            for node in graph.nodes(fedBy: edge.receiver) { nodes.insert(node) }
        }
        return nodes
    }
}
