import CGraphviz
import MechanicCircuits
import MechanicExport

/// Fuzzes the DOT writers with fuzzer-chosen text: `DOTWriter.render` of a head-level
/// ``CircuitGraph`` (title, roles, scores and edge weights, NaN and infinities included),
/// `DOTWriter.quoted` on its own, and `EdgeCircuitDOT.render` of an edge-level circuit (title,
/// scores, highlighted heads).
///
/// The input is read as a stream of choices (see `ByteReader`). Every DOT text must be well
/// formed: each quoted string closed on its line, and Graphviz's own parser (libcgraph's
/// `agmemread`, the code `mechanic export` hands the text to) must read it and give back the
/// title as the writer escaped it (`\"` unescaped, as cgraph stores attribute values).
///
/// Traps on a finding; returns on any correct answer.
public func checkDOT(_ bytes: [UInt8]) {
    var reader = ByteReader(bytes)
    switch reader.byte() % 3 {
    case 0:
        let text = reader.string(maxBytes: 256)
        let quoted = DOTWriter.quoted(text)
        checkDOTText("digraph g {\n    graph [label=\(quoted)];\n}\n", title: text)
    case 1:
        let graph = circuitGraph(&reader)
        let coloring: [DOTWriter.Coloring] = [.automatic, .role, .score, .none]
        let options = DOTWriter.Options(coloring: coloring[reader.int(in: 0...3)], legend: reader.bool())
        checkDOTText(DOTWriter.render(graph, options: options), title: graph.title)
    default:
        let layers = reader.int(in: 0...3), heads = reader.int(in: 1...4)
        let divisors = (1...heads).filter { heads % $0 == 0 }
        let graph = ComputationalGraph(layers: layers, heads: heads, kvHeads: divisors[reader.int(in: 0...(divisors.count - 1))],
                                       hasMLPs: reader.bool(), parallelBlocks: reader.bool())
        var scores: [Float] = [], included: [Bool] = []
        for _ in graph.edges {
            scores.append(reader.bool() ? reader.float() : Float(reader.int(in: -8...8)))
            included.append(reader.bool())
        }
        var circuit = EdgeCircuit(included: included)
        if reader.bool() { circuit = circuit.pruned(in: graph) }
        var highlighted = Set<HeadID>()
        for _ in 0..<reader.int(in: 0...3) { highlighted.insert(HeadID(layer: reader.int(in: 0...3), head: reader.int(in: 0...3))) }
        let options = EdgeCircuitDOT.Options(title: reader.optional { $0.string() }, highlighted: highlighted)
        checkDOTText(EdgeCircuitDOT.render(graph: graph, scores: scores, circuit: circuit, options: options), title: options.title)
    }
}

/// A graph of up to 12 nodes and 16 edges whose every text and number comes from the input.
func circuitGraph(_ reader: inout ByteReader) -> CircuitGraph {
    let layers = reader.int(in: 1...4)
    var ids: [CircuitGraph.NodeID] = [.embed, .logits]
    for _ in 0..<reader.int(in: 0...12) {
        let layer = reader.int(in: 0...(layers - 1))
        ids.append(reader.bool() ? .head(HeadID(layer: layer, head: reader.int(in: 0...7))) : .mlp(layer: layer))
    }
    let nodes = ids.map { id in
        CircuitGraph.Node(id, role: reader.optional { $0.string() }, score: reader.optional { $0.float() })
    }
    var edges: [CircuitGraph.Edge] = []
    for _ in 0..<reader.int(in: 0...16) {
        let from = ids[reader.int(in: 0...(ids.count - 1))], to = ids[reader.int(in: 0...(ids.count - 1))]
        edges.append(CircuitGraph.Edge(from: from, to: to, weight: reader.optional { $0.float() }))
    }
    return CircuitGraph(nodes: nodes, edges: edges, layers: layers, title: reader.optional { $0.string() })
}

/// Traps unless `dot` is well formed and Graphviz reads back `title` as `DOTWriter.quoted` wrote it.
func checkDOTText(_ dot: String, title: String?) {
    for (number, line) in dot.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        precondition(closesEveryQuote(line), "line \(number + 1) leaves a quoted string open: \(line)\n\(dot)")
    }
    guard let graph = agmemread(dot) else {
        fatalError("Graphviz cannot parse the DOT text:\n\(dot)")
    }
    defer { _ = agclose(graph) }
    guard let title else { return }
    // Strip the quotes as scalars: a combining mark after the opening quote joins it in one
    // Character, and dropping Characters would drop the mark too.
    let quoted = DOTWriter.quoted(title).unicodeScalars
    let expected = unescapedByCgraph(String(String.UnicodeScalarView(quoted.dropFirst().dropLast())))
    let label = "label".withCString { name in agget(UnsafeMutableRawPointer(graph), UnsafeMutablePointer(mutating: name)) }
    guard let label, String(cString: label) == expected else {
        fatalError("Graphviz reads the title \(String(reflecting: title)) as \(label.map { String(reflecting: String(cString: $0)) } ?? "nil"), expected \(String(reflecting: expected))")
    }
}

/// A quoted string's body as libcgraph stores it: `\"` becomes `"`, every other escape
/// (`\\`, `\n`) is kept for the label renderer.
func unescapedByCgraph(_ body: String) -> String {
    var out = "", scalars = body.unicodeScalars.makeIterator()
    while let scalar = scalars.next() {
        guard scalar == "\\", let next = scalars.next() else { out.unicodeScalars.append(scalar); continue }
        if next != "\"" { out.unicodeScalars.append(scalar) }
        out.unicodeScalars.append(next)
    }
    return out
}

/// Whether every `"` on `line` that opens a string is closed on it (`\` escapes the next character).
func closesEveryQuote(_ line: Substring) -> Bool {
    var inString = false, escaped = false
    for scalar in line.unicodeScalars {
        if escaped { escaped = false; continue }
        if inString, scalar == "\\" { escaped = true; continue }
        if scalar == "\"" { inString.toggle() }
        if inString, scalar.value < 0x20 { return false }
    }
    return !inString && !escaped
}

