import Foundation

/// An edge-level ground truth: the edges a circuit is known to use (a compiled model's, or a
/// circuit found elsewhere), and edge ROC AUC of scores against it.
///
/// Read from an MIB/EAP-IG graph file (its `in_graph` edges) or from a text file of MIB edge
/// names, one per line (`input->a0.h1<q>`; blank lines and `#` comments skipped).
public struct EdgeGroundTruth: Equatable, Sendable {
    public var circuit: EdgeCircuit

    public init(circuit: EdgeCircuit) {
        self.circuit = circuit
    }

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case unknownEdge(line: Int, name: String)
        case empty
        case everything

        public var description: String {
            switch self {
            case .unknownEdge(let line, let name):
                return "line \(line): \(name.count > 200 ? String(name.prefix(200)) + "…" : name) is not an edge of this model (names look like input->a0.h1<q>, a1.h0->m2, m3->logits)"
            case .empty: return "the ground truth names no edge, so no AUC can be computed"
            case .everything: return "the ground truth holds every edge, so no AUC can be computed"
            }
        }
    }

    /// Parses `data`: a graph file when it is a JSON object, else a list of edge names.
    public static func read(_ data: Data, graph: ComputationalGraph) throws -> EdgeGroundTruth {
        let circuit: EdgeCircuit
        if data.first(where: { !$0.isWhitespace }) == UInt8(ascii: "{") {
            circuit = try MIBGraphFile.decode(data, graph: graph).circuit
        } else {
            guard let text = String(data: data, encoding: .utf8) else { throw MIBGraphFile.Problem.notAGraphFile("the file is not UTF-8 text") }
            let index = graph.edgeIndex()
            var included = [Bool](repeating: false, count: graph.edges.count)
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                    .trimmingCharacters(in: .whitespaces) ?? ""
                guard !line.isEmpty else { continue }
                guard let i = index[line] else { throw Problem.unknownEdge(line: n + 1, name: line) }
                included[i] = true
            }
            circuit = EdgeCircuit(included: included)
        }
        guard circuit.edgeCount > 0 else { throw Problem.empty }
        guard circuit.edgeCount < graph.edges.count else { throw Problem.everything }
        return EdgeGroundTruth(circuit: circuit)
    }

    /// ROC AUC of `scored`'s |score| for membership of the ground truth (an edge without a
    /// score ranks below every scored one).
    public func auc(_ scored: ScoredGraph) -> Double? {
        precondition(scored.scores.count == circuit.included.count, "scores of the ground truth's graph")
        return CircuitEvaluation.rocAUC(scores: scored.scores.map { $0.isNaN ? -1 : abs($0) }, labels: circuit.included)
    }
}

private extension UInt8 {
    var isWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
