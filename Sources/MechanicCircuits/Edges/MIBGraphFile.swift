import Foundation
import MechanicModel

/// Edge scores and circuits in the JSON graph format of EAP-IG and the MIB circuit track, so a
/// circuit found elsewhere can be evaluated here and one found here evaluated there.
///
/// ```json
/// {"cfg": {"n_layers": 12, "n_heads": 12, "parallel_attn_mlp": false, "d_model": 768},
///  "nodes": {"input": {"in_graph": true}, "a0.h0": {"in_graph": false}, …, "logits": {"in_graph": true}},
///  "edges": {"input->a0.h0<q>": {"score": 0.12, "in_graph": false}, …}}
/// ```
///
/// Names are ``ComputationalGraph``'s. A score written as `null` (Mechanic writes NaN so, since
/// JSON has no NaN) reads back as NaN. Reading checks the configuration against the model's graph
/// and refuses unknown or missing edges, naming the first.
public enum MIBGraphFile {
    public struct Contents: Equatable, Sendable {
        /// One score per edge, in `graph.edges` order.
        public var scores: [Float]
        public var circuit: EdgeCircuit
    }

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case notAGraphFile(String)
        case wrongModel(String)
        case unknownEdge(String)
        case missingEdges(count: Int, first: String)
        case badEntry(edge: String, reason: String)

        public var description: String {
            switch self {
            case .notAGraphFile(let why): return "not an MIB/EAP-IG graph file: \(why)"
            case .wrongModel(let why): return "the graph file is for another model: \(why)"
            case .unknownEdge(let name): return "the graph file has an edge this model does not: \(cut(name))"
            case .missingEdges(let count, let first): return "the graph file lacks \(count) of this model's edges, e.g. \(cut(first))"
            case .badEntry(let edge, let reason): return "edge \(cut(edge)): \(reason)"
            }
        }

        private func cut(_ s: String) -> String { s.count > 200 ? String(s.prefix(200)) + "…" : s }
    }

    /// The file's JSON: every edge with its score and membership, every node with its membership.
    ///
    /// - Parameters:
    ///   - scores: one per edge of `graph` (NaN is written as `null`).
    ///   - circuit: which edges are in the graph (default: none).
    ///   - dModel: the model's width, for the `cfg` block.
    public static func encode(graph: ComputationalGraph, scores: [Float], circuit: EdgeCircuit? = nil, dModel: Int) throws -> Data {
        precondition(scores.count == graph.edges.count, "one score per edge")
        let included = circuit?.included ?? [Bool](repeating: false, count: graph.edges.count)
        let inCircuit = (circuit ?? EdgeCircuit(included: included)).nodes(in: graph)
        var nodes: [String: Any] = [:]
        for node in graph.senders + [.logits] {
            nodes[node.name] = ["in_graph": node == .input || node == .logits || inCircuit.contains(node)]
        }
        var edges: [String: Any] = [:]
        for (i, edge) in graph.edges.enumerated() {
            edges[graph.name(of: edge)] = ["score": scores[i].isNaN ? NSNull() : Double(scores[i]) as Any, "in_graph": included[i]]
        }
        let file: [String: Any] = [
            "cfg": ["n_layers": graph.layers, "n_heads": graph.heads, "parallel_attn_mlp": graph.parallelBlocks, "d_model": dModel],
            "nodes": nodes, "edges": edges,
        ]
        return try JSONSerialization.data(withJSONObject: file, options: [.sortedKeys])
    }

    /// Reads a graph file against `graph`.
    public static func decode(_ data: Data, graph: ComputationalGraph) throws -> Contents {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw Problem.notAGraphFile("the file is not JSON")
        }
        guard let file = object as? [String: Any] else { throw Problem.notAGraphFile("the top level is not an object") }
        guard let cfg = file["cfg"] as? [String: Any], let edges = file["edges"] as? [String: Any] else {
            throw Problem.notAGraphFile("it needs \"cfg\" and \"edges\" objects")
        }
        func number(_ key: String) -> Int? { (cfg[key] as? NSNumber).map { $0.intValue } }
        guard number("n_layers") == graph.layers, number("n_heads") == graph.heads else {
            throw Problem.wrongModel("it has \(number("n_layers").map(String.init) ?? "?") layers × \(number("n_heads").map(String.init) ?? "?") heads, "
                                     + "the model \(graph.layers) × \(graph.heads)")
        }
        if let parallel = cfg["parallel_attn_mlp"] as? Bool, parallel != graph.parallelBlocks {
            throw Problem.wrongModel("parallel_attn_mlp is \(parallel), the model's blocks are \(graph.parallelBlocks ? "parallel" : "sequential")")
        }
        let index = graph.edgeIndex()
        var scores = [Float](repeating: .nan, count: graph.edges.count), seen = [Bool](repeating: false, count: graph.edges.count)
        var included = [Bool](repeating: false, count: graph.edges.count)
        for (name, value) in edges {
            guard let i = index[name] else { throw Problem.unknownEdge(name) }
            guard let entry = value as? [String: Any] else { throw Problem.badEntry(edge: name, reason: "not an object") }
            switch entry["score"] {
            case let n as NSNumber where !ConfigJSON.isBoolean(n): scores[i] = n.floatValue
            case is NSNull, nil: scores[i] = .nan
            default: throw Problem.badEntry(edge: name, reason: "its score is not a number")
            }
            if let member = entry["in_graph"] {
                guard let flag = member as? NSNumber, ConfigJSON.isBoolean(flag) else {
                    throw Problem.badEntry(edge: name, reason: "in_graph is not true or false")
                }
                included[i] = flag.boolValue
            }
            seen[i] = true
        }
        if let missing = seen.firstIndex(of: false) {
            throw Problem.missingEdges(count: seen.filter { !$0 }.count, first: graph.name(of: graph.edges[missing]))
        }
        return Contents(scores: scores, circuit: EdgeCircuit(included: included))
    }
}
