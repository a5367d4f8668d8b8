import Foundation
import MechanicModel

/// Reads ground-truth head sets: Mechanic's own circuit files (``GroundTruth/Circuit`` JSON) or
/// the literature's `published-circuits.json`, addressed as `file.json#model/task`.
public enum GroundTruthFile {
    /// The heads of a ground-truth file; `reference` is `path` or `path#model/task`.
    public static func heads(_ reference: String) throws -> Set<HeadID> {
        let parts = reference.split(separator: "#", maxSplits: 1).map(String.init)
        let url = URL(fileURLWithPath: (parts[0] as NSString).expandingTildeInPath)
        guard let data = try? Data(contentsOf: url) else {
            throw GroundTruthError("cannot read ground truth \(url.path)")
        }
        if parts.count == 1, let circuit = try? JSONDecoder().decode(GroundTruth.Circuit.self, from: data) {
            return circuit.headSet
        }
        guard var node = try? JSONSerialization.jsonObject(with: data) else {
            throw GroundTruthError("\(url.path) is not JSON")
        }
        if parts.count == 2 {
            for key in parts[1].split(separator: "/").map(String.init) {
                guard let next = (node as? [String: Any])?[key] else {
                    let keys = (node as? [String: Any])?.keys.sorted().joined(separator: ", ") ?? "none"
                    throw GroundTruthError("\(url.path) has no \"\(key)\" in \(parts[1]); keys here: \(keys)")
                }
                node = next
            }
        }
        // Collect every [layer, head] pair under "heads" or "classes" (not "extras" or MLPs).
        var heads = Set<HeadID>()
        func collect(_ value: Any) {
            if let pairs = value as? [[Int]] {
                for p in pairs where p.count == 2 { heads.insert(HeadID(layer: p[0], head: p[1])) }
            } else if let dict = value as? [String: Any] {
                for (_, v) in dict { collect(v) }
            }
        }
        if let dict = node as? [String: Any] {
            if let h = dict["heads"] { collect(h) }
            if let c = dict["classes"] { collect(c) }
        } else {
            collect(node)
        }
        guard !heads.isEmpty else { throw GroundTruthError("no heads found in \(reference)") }
        return heads
    }
}

extension GroundTruthFile {
    /// The heads of a ground-truth file, each checked to exist in a model of `config`'s shape.
    ///
    /// A circuit written for another model (GPT-2 small's a9.9 on a 4-layer model) would
    /// otherwise score every method against heads no method can find: a silently wrong ROC AUC.
    public static func heads(_ reference: String, for config: TransformerConfig) throws -> Set<HeadID> {
        let heads = try heads(reference)
        if let outside = heads.sorted().first(where: { !(0..<config.layers).contains($0.layer) || !(0..<config.heads).contains($0.head) }) {
            throw GroundTruthError("ground truth \(reference) names head \(outside) (layer \(outside.layer), head \(outside.head)), "
                + "outside the model's \(config.layers) layers × \(config.heads) heads; is it the circuit of another model?")
        }
        return heads
    }
}

/// A ground-truth file that cannot be used.
public struct GroundTruthError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
