import Foundation
import MechanicTensor
import MechanicTokenizer

/// A token batch and, for each of its rows, the prompt's index in the whole prompt set.
public struct PromptBatch: Sendable {
    public var tokens: TokenBatch
    /// `[batch]`: which prompt each row is.
    public var promptIndices: [Int]

    public init(tokens: TokenBatch, promptIndices: [Int]) {
        precondition(promptIndices.count == tokens.batch, "one prompt index per row")
        self.tokens = tokens
        self.promptIndices = promptIndices
    }
}

/// Reduces attention patterns and residual streams to sink statistics as they are produced,
/// so an analysis never holds more than one layer's pattern of one batch.
///
/// Feed it each batch once with ``addPrompts(_:)``, then every layer's `hook_pattern`
/// (``addPatterns(_:layer:batch:)``) and `hook_resid_post` (``addResidual(_:layer:batch:)``),
/// in any order; ``finish(tokenText:)`` turns the sums into ``SinkStatistics``. Sums are kept
/// in `Double`, so the order in which batches arrive changes results only by rounding.
public struct SinkAccumulator: Sendable {
    public let layers: Int
    public let heads: Int
    public let thresholds: SinkThresholds
    public let bosPrepended: Bool
    /// Most individual hidden sinks and massive activations kept (the strongest).
    public let recordLimit: Int

    var promptCount = 0
    var tokenCount = 0
    var promptsPerPosition: [Int] = []                 // [pos]
    var tokenOccurrences: [Int: Int] = [:]             // token id → occurrences at positions ≥ 1
    var firstTokenMassSum: [Double]                    // [layer·heads + head]
    var firstTokenSinks: [Int]                         // [layer·heads + head]
    var entropySum: [Double]                           // [layer·heads + head]
    var columnSums: [[Double]]                         // [layer·heads + head][keyPos]
    var hiddenSinkCounts: [Int]                        // [layer·heads + head]
    var hiddenSinksByPosition: [Int] = []              // [pos]
    var hiddenSinkTotal = 0
    var hiddenSinks: [HiddenSink] = []                 // token strings filled in by finish
    var tokenSinkEvents: [Int: Int] = [:]              // token id → hidden-sink events
    var residualNormSums: [[Double]]                   // [layer][pos]
    var massiveTotal = 0
    var massiveActivations: [MassiveActivation] = []   // token strings filled in by finish
    var massiveDimensions: [DimensionKey: DimensionTally] = [:]

    struct DimensionKey: Hashable, Sendable {
        var layer: Int
        var dimension: Int
    }

    struct DimensionTally: Sendable {
        var count = 0
        var maxMagnitude = 0.0
        var positions: Set<Int> = []
    }

    public init(layers: Int, heads: Int, thresholds: SinkThresholds, bosPrepended: Bool, recordLimit: Int = 200) {
        self.layers = layers
        self.heads = heads
        self.thresholds = thresholds
        self.bosPrepended = bosPrepended
        self.recordLimit = recordLimit
        let n = layers * heads
        firstTokenMassSum = Array(repeating: 0, count: n)
        firstTokenSinks = Array(repeating: 0, count: n)
        entropySum = Array(repeating: 0, count: n)
        columnSums = Array(repeating: [], count: n)
        hiddenSinkCounts = Array(repeating: 0, count: n)
        residualNormSums = Array(repeating: [], count: layers)
    }

    /// Counts a batch's prompts and tokens; call once per batch, before or after its activations.
    public mutating func addPrompts(_ batch: PromptBatch) {
        let tokens = batch.tokens
        for r in 0..<tokens.batch {
            let n = tokens.lengths[r]
            promptCount += 1
            tokenCount += n
            grow(&promptsPerPosition, to: n)
            for p in 0..<n { promptsPerPosition[p] += 1 }
            for p in stride(from: 1, to: n, by: 1) { tokenOccurrences[Int(tokens.ids[r * tokens.positions + p]), default: 0] += 1 }
        }
    }

    /// Adds one layer's attention pattern.
    ///
    /// - Parameters:
    ///   - pattern: `hook_pattern`, `[batch, head, queryPos, keyPos]`, rows summing to 1.
    ///   - layer: the block it comes from.
    ///   - batch: the batch it was computed on (lengths decide which queries and keys are real).
    public mutating func addPatterns(_ pattern: Tensor, layer: Int, batch: PromptBatch) {
        let tokens = batch.tokens
        let (b, h, t) = (tokens.batch, heads, tokens.positions)
        precondition(pattern.shape == [b, h, t, t], "pattern \(pattern.shape) does not fit batch [\(b), \(h), \(t), \(t)]")
        precondition(layer >= 0 && layer < layers, "layer \(layer) outside 0..<\(layers)")
        var alphas = [Double](repeating: 0, count: b * h * t)     // [batch, head, keyPos]
        var entropies = [Double](repeating: 0, count: b * h)      // [batch, head]
        let lengths = tokens.lengths
        pattern.storage.withUnsafeBufferPointer { p in
            alphas.withUnsafeMutableBufferPointer { a in
                entropies.withUnsafeMutableBufferPointer { e in
                    let (pb, ab, eb) = (p.baseAddress!, a.baseAddress!, e.baseAddress!)
                    Kernels.parallelFor(b * h) { range in
                        for m in range {
                            eb[m] = SinkAccumulator.columnScores(pb + m * t * t, length: lengths[m / h], ld: t, into: ab + m * t)
                        }
                    }
                }
            }
        }
        for r in 0..<b {
            let n = lengths[r]
            let uniform = SinkAccumulator.uniformScores(length: n)
            for hi in 0..<h {
                let slot = layer * heads + hi
                let alpha = alphas[((r * h) + hi) * t..<((r * h) + hi) * t + n]
                let a0 = alpha[alpha.startIndex]
                firstTokenMassSum[slot] += a0
                if a0 > thresholds.firstToken { firstTokenSinks[slot] += 1 }
                entropySum[slot] += entropies[r * h + hi]
                grow(&columnSums[slot], to: n)
                for (j, value) in alpha.enumerated() {
                    columnSums[slot][j] += value
                    if j > 0 && n - j >= thresholds.minimumObservers && value > thresholds.hiddenSink
                        && value >= thresholds.minimumLift * uniform[j] {
                        recordHiddenSink(row: r, layer: layer, head: hi, position: j, score: value, batch: batch)
                    }
                }
            }
        }
    }

    /// Each key's column score under uniform causal attention over `length` tokens:
    /// `u_j = (1/(n − j)) Σ_{i=j}^{n−1} 1/(i + 1)`, the baseline of ``SinkThresholds/minimumLift``.
    static func uniformScores(length n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n)
        var tail = 0.0                                                    // Σ_{i=j}^{n−1} 1/(i+1)
        for j in stride(from: n - 1, through: 0, by: -1) {
            tail += 1 / Double(j + 1)
            out[j] = tail / Double(n - j)
        }
        return out
    }

    /// Records one hidden sink.
    private mutating func recordHiddenSink(row r: Int, layer: Int, head: Int, position j: Int, score: Double, batch: PromptBatch) {
        let id = Int(batch.tokens.ids[r * batch.tokens.positions + j])
        hiddenSinkCounts[layer * heads + head] += 1
        grow(&hiddenSinksByPosition, to: j + 1)
        hiddenSinksByPosition[j] += 1
        hiddenSinkTotal += 1
        tokenSinkEvents[id, default: 0] += 1
        guard recordLimit > 0 else { return }
        hiddenSinks.append(HiddenSink(prompt: batch.promptIndices[r], layer: layer, head: head, position: j,
                                      tokenID: id, token: "", score: score))
        if hiddenSinks.count >= 2 * recordLimit + 256 {
            hiddenSinks.sort(by: HiddenSink.strongerFirst)
            hiddenSinks.removeLast(hiddenSinks.count - recordLimit)
        }
    }

    /// Column sums of one head's pattern over its real queries, divided by the number of queries
    /// that see each key, written to `alpha[0..<length]`.
    ///
    /// - Parameters:
    ///   - pattern: the head's `[queryPos, keyPos]` block, row stride `ld`.
    ///   - length: real tokens of the prompt.
    /// - Returns: the attention entropy in nats, averaged over the real queries.
    static func columnScores(_ pattern: UnsafePointer<Float>, length n: Int, ld: Int, into alpha: UnsafeMutablePointer<Double>) -> Double {
        alpha.update(repeating: 0, count: n)
        var entropy = 0.0
        for i in 0..<n {
            let row = pattern + i * ld
            var h: Float = 0
            for j in 0...i {
                let v = row[j]
                alpha[j] += Double(v)
                if v > 0 { h -= v * log(v) }
            }
            entropy += Double(h)
        }
        for j in 0..<n { alpha[j] /= Double(n - j) }
        return n > 0 ? entropy / Double(n) : 0
    }
}

/// Extends `array` with zeros to at least `count` elements.
func grow<T: Numeric>(_ array: inout [T], to count: Int) {
    if array.count < count { array.append(contentsOf: repeatElement(0, count: count - array.count)) }
}
