import MechanicModel

/// The computational graph of a transformer as edge-level circuit methods see it (EAP, EAP-IG,
/// edge ACDC, the MIB benchmark): every component that writes to the residual stream sends an
/// edge to every later component that reads it.
///
/// - Senders: the input (embeddings), every attention head, every MLP.
/// - Receivers: each head's query, key and value inputs (keys and values once per key/value
///   group in GQA/MQA models, where one projection serves the whole group), each MLP's input,
///   and the logits.
/// - Order: an attention receiver in layer l reads the input and every head and MLP of the
///   layers before l; an MLP receiver also reads its own layer's heads (not in parallel-block
///   models such as GPT-J/NeoX with `use_parallel_residual`, where it reads what the heads of its
///   layer read); the logits read everything.
///
/// GPT-2 small (12 × 12 heads, MLPs) has 32,491 edges, as in MIB. Names follow the EAP-IG / MIB
/// graph files: nodes `input`, `a{layer}.h{head}`, `m{layer}`, `logits`; edges
/// `{sender}->{receiver}`, with `<q>`, `<k>` or `<v>` after an attention receiver. A key/value
/// receiver shared by a GQA group is named after the group, `a{layer}.g{group}<k>`; when every
/// head has its own keys and values (`kvHeads == heads`) the group is the head and the MIB name is used.
public struct ComputationalGraph: Equatable, Sendable, Codable {
    /// A component that writes to the residual stream (or the logits, which only read).
    public enum Node: Hashable, Sendable {
        case input
        case head(HeadID)
        case mlp(layer: Int)
        case logits

        /// The MIB / EAP-IG name: `input`, `a3.h7`, `m3`, `logits`.
        public var name: String {
            switch self {
            case .input: "input"
            case .head(let h): "a\(h.layer).h\(h.head)"
            case .mlp(let layer): "m\(layer)"
            case .logits: "logits"
            }
        }
    }

    /// Where an edge enters its receiving component.
    public enum Receiver: Hashable, Sendable {
        case query(HeadID)
        /// The key input of key/value group `group` of `layer` (the head itself without GQA).
        case key(layer: Int, group: Int)
        case value(layer: Int, group: Int)
        case mlp(layer: Int)
        case logits
    }

    public struct Edge: Hashable, Sendable {
        public let sender: Node
        public let receiver: Receiver
    }

    public let layers: Int
    public let heads: Int
    public let kvHeads: Int
    public let hasMLPs: Bool
    public let parallelBlocks: Bool
    /// Every sender, in forward order: input, then per layer its heads and its MLP.
    public let senders: [Node]
    /// Every receiver, in forward order: per layer its queries, keys, values and MLP, then the logits.
    public let receivers: [Receiver]
    /// Every edge, receiver by receiver (in `receivers` order), senders in forward order.
    public let edges: [Edge]

    /// The graph of a model with this configuration.
    public init(config: TransformerConfig) {
        self.init(layers: config.layers, heads: config.heads, kvHeads: config.kvHeads, hasMLPs: !config.attentionOnly,
                  parallelBlocks: config.parallelBlocks)
    }

    public init(layers: Int, heads: Int, kvHeads: Int? = nil, hasMLPs: Bool = true, parallelBlocks: Bool = false) {
        let kv = kvHeads ?? heads
        precondition(layers >= 0 && heads >= 1 && kv >= 1 && heads % kv == 0, "heads must be a multiple of the key/value heads")
        (self.layers, self.heads, self.kvHeads, self.hasMLPs, self.parallelBlocks) = (layers, heads, kv, hasMLPs, parallelBlocks)
        var senders: [Node] = [.input], receivers: [Receiver] = [], edges: [Edge] = []
        for layer in 0..<layers {
            let before = senders                                             // everything earlier layers wrote
            let own = (0..<heads).map { Node.head(HeadID(layer: layer, head: $0)) }
            var attention: [Receiver] = (0..<heads).map { .query(HeadID(layer: layer, head: $0)) }
            attention += (0..<kv).map { .key(layer: layer, group: $0) }
            attention += (0..<kv).map { .value(layer: layer, group: $0) }
            for r in attention {
                receivers.append(r)
                edges += before.map { Edge(sender: $0, receiver: r) }
            }
            senders += own
            if hasMLPs {
                let r = Receiver.mlp(layer: layer)
                receivers.append(r)
                edges += (parallelBlocks ? before : senders).map { Edge(sender: $0, receiver: r) }
                senders.append(.mlp(layer: layer))
            }
        }
        receivers.append(.logits)
        edges += senders.map { Edge(sender: $0, receiver: .logits) }
        (self.senders, self.receivers, self.edges) = (senders, receivers, edges)
    }

    /// The node a receiver belongs to (a key or value receiver of a GQA group: its group's first head).
    public func node(of receiver: Receiver) -> Node {
        switch receiver {
        case .query(let h): .head(h)
        case .key(let layer, let group), .value(let layer, let group): .head(HeadID(layer: layer, head: group * (heads / kvHeads)))
        case .mlp(let layer): .mlp(layer: layer)
        case .logits: .logits
        }
    }

    /// The nodes a receiver feeds: one head, a whole GQA group, an MLP or the logits.
    public func nodes(fedBy receiver: Receiver) -> [Node] {
        switch receiver {
        case .key(let layer, let group), .value(let layer, let group):
            let size = heads / kvHeads
            return (0..<size).map { .head(HeadID(layer: layer, head: group * size + $0)) }
        default:
            return [node(of: receiver)]
        }
    }

    /// The MIB / EAP-IG name of a receiver: its node's name, then `<q>`, `<k>` or `<v>` for attention.
    public func name(of receiver: Receiver) -> String {
        switch receiver {
        case .query(let h): return "a\(h.layer).h\(h.head)<q>"
        case .key(let layer, let group): return groupName(layer: layer, group: group) + "<k>"
        case .value(let layer, let group): return groupName(layer: layer, group: group) + "<v>"
        case .mlp(let layer): return "m\(layer)"
        case .logits: return "logits"
        }
    }

    private func groupName(layer: Int, group: Int) -> String {
        kvHeads == heads ? "a\(layer).h\(group)" : "a\(layer).g\(group)"
    }

    /// The MIB / EAP-IG name of an edge, e.g. `a0.h1->a2.h3<q>`, `input->m0`, `m11->logits`.
    public func name(of edge: Edge) -> String {
        edge.sender.name + "->" + name(of: edge.receiver)
    }

    /// Edge index by name.
    public func edgeIndex() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: edges.enumerated().map { (name(of: $0.element), $0.offset) })
    }

    // Coded by its shape (the node, receiver and edge lists follow from it), in MIB's `cfg` spelling.
    private enum CodingKeys: String, CodingKey {
        case layers = "n_layers", heads = "n_heads", kvHeads = "n_key_value_heads", hasMLPs = "has_mlps"
        case parallelBlocks = "parallel_attn_mlp"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let (layers, heads) = (try c.decode(Int.self, forKey: .layers), try c.decode(Int.self, forKey: .heads))
        let kv = try c.decodeIfPresent(Int.self, forKey: .kvHeads) ?? heads
        guard (0...1024).contains(layers), (1...1024).contains(heads), kv >= 1, heads % kv == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                                                    debugDescription: "not a graph shape: \(layers) layers, \(heads) heads, \(kv) key/value heads"))
        }
        self.init(layers: layers, heads: heads, kvHeads: kv, hasMLPs: try c.decodeIfPresent(Bool.self, forKey: .hasMLPs) ?? true,
                  parallelBlocks: try c.decodeIfPresent(Bool.self, forKey: .parallelBlocks) ?? false)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(kvHeads, forKey: .kvHeads)
        try c.encode(hasMLPs, forKey: .hasMLPs)
        try c.encode(parallelBlocks, forKey: .parallelBlocks)
    }
}
