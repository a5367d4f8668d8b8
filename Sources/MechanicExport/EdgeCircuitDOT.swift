import MechanicCircuits

/// An edge-level circuit (a ``ComputationalGraph`` subset) as Graphviz DOT, bottom to top: the
/// input, each layer's heads then its MLP, the logits. Each edge enters its receiver as a query,
/// key or value (Okabe–Ito blue, green and vermilion, labelled q, k, v) or as the MLP's or the
/// logits' input (grey); its width grows with |score|, and it is dashed when patching it raised
/// the metric (the edge works against the task).
public enum EdgeCircuitDOT {
    public struct Options: Sendable {
        public var title: String?
        /// Heads to outline in bold (e.g. a head-level ground truth).
        public var highlighted: Set<HeadID> = []

        public init(title: String? = nil, highlighted: Set<HeadID> = []) {
            self.title = title
            self.highlighted = highlighted
        }
    }

    static let query = "#0072b2", key = "#009e73", value = "#d55e00"

    /// - Parameter scores: one per edge of `graph`, in `graph.edges` order.
    public static func render(graph: ComputationalGraph, scores: [Float], circuit: EdgeCircuit, options: Options = Options()) -> String {
        precondition(scores.count == graph.edges.count && circuit.included.count == graph.edges.count, "one score and flag per edge")
        let kept = graph.edges.indices.filter { circuit.included[$0] }
        var nodes = circuit.nodes(in: graph)
        nodes.insert(.input)
        nodes.insert(.logits)
        var lines = ["digraph edges {"]
        var attributes = ["rankdir=BT", "fontname=\"Helvetica\"", "fontsize=12", "nodesep=0.25", "ranksep=0.5"]
        if let title = options.title { attributes += ["label=" + DOTWriter.quoted(title), "labelloc=t"] }
        lines.append("    graph [\(attributes.joined(separator: ", "))];")
        lines.append("    node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, color=\"\(DOTPalette.ink)\", "
                     + "fillcolor=\"\(DOTPalette.paper)\"];")
        lines.append("    edge [arrowsize=0.5, fontname=\"Helvetica\", fontsize=8];")
        // Rows: input, then per layer its heads and its MLP, then the logits.
        var rows: [[ComputationalGraph.Node]] = [[.input]]
        for layer in 0..<graph.layers {
            rows.append((0..<graph.heads).map { .head(HeadID(layer: layer, head: $0)) }.filter { nodes.contains($0) })
            if graph.hasMLPs { rows.append([.mlp(layer: layer)].filter { nodes.contains($0) }) }
        }
        rows.append([.logits])
        for row in rows where !row.isEmpty {
            let statements = row.map { node -> String in
                var style = ""
                switch node {
                case .input, .logits: style = ", fillcolor=\"\(DOTPalette.ends)\""
                case .mlp: style = ", fillcolor=\"\(DOTPalette.mlp)\""
                case .head(let h): if options.highlighted.contains(h) { style = ", penwidth=2.5" }
                }
                return DOTWriter.quoted(node.name) + " [label=" + DOTWriter.quoted(node.name) + style + "]"
            }
            lines.append("    { rank=same; " + statements.joined(separator: "; ") + " }")
        }
        // Widths scale by the largest finite |score|; an infinite one is drawn at full width, NaN at the thinnest.
        let largest = kept.map { abs(scores[$0]) }.filter { $0.isFinite }.max() ?? 0
        for e in kept {
            let edge = graph.edges[e]
            let size = abs(scores[e])
            let magnitude: Float = size.isNaN ? 0 : size.isInfinite ? 1 : largest == 0 ? 0 : min(1, size / largest)
            var attributes = [String(format: "penwidth=%.2f", 0.5 + 3.5 * Double(magnitude))]
            switch edge.receiver {
            case .query: attributes += ["color=\"\(query)\"", "label=\"q\"", "fontcolor=\"\(query)\""]
            case .key: attributes += ["color=\"\(key)\"", "label=\"k\"", "fontcolor=\"\(key)\""]
            case .value: attributes += ["color=\"\(value)\"", "label=\"v\"", "fontcolor=\"\(value)\""]
            case .mlp, .logits: attributes.append("color=\"\(DOTPalette.faint)\"")
            }
            if scores[e] > 0 { attributes.append("style=dashed") }
            for target in targets(edge.receiver, graph: graph, nodes: nodes) {
                lines.append("    " + DOTWriter.quoted(edge.sender.name) + " -> " + DOTWriter.quoted(target.name)
                             + " [" + attributes.joined(separator: ", ") + "]")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The drawn nodes a receiver feeds (a GQA key/value group: each of its heads in the drawing).
    static func targets(_ receiver: ComputationalGraph.Receiver, graph: ComputationalGraph,
                        nodes: Set<ComputationalGraph.Node>) -> [ComputationalGraph.Node] {
        graph.nodes(fedBy: receiver).filter { nodes.contains($0) }
    }
}
