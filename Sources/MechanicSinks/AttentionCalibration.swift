import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// The two knobs of attention calibration.
public struct CalibrationSettings: Codable, Sendable, Equatable {
    /// A key j ≥ 1 is a hidden sink of a head on a prompt when α_j exceeds this (ACT: 0.1).
    public var threshold: Double
    /// Hidden-sink columns are scaled by this (ACT: 0.4).
    public var beta: Double

    public init(threshold: Double = 0.1, beta: Double = 0.4) {
        self.threshold = threshold
        self.beta = beta
    }

    /// Rejects values outside `[0, 1]` (`[0, 1)` for the threshold).
    public func validate() throws(SinkError) {
        if !(threshold >= 0 && threshold < 1) {
            throw .invalidOption(name: "threshold", value: "\(threshold)", expected: "an attention share in [0, 1)")
        }
        if !(beta >= 0 && beta <= 1) { throw .invalidOption(name: "beta", value: "\(beta)", expected: "a factor in [0, 1]") }
    }
}

/// Attention calibration (ACT, Yu et al. 2024): in chosen heads, damp the hidden sinks and give
/// their attention back to the other keys.
///
/// For each chosen head and prompt, hidden sinks are the keys j ≥ 1 whose column-normalised
/// score α_j (over the real queries) exceeds the threshold, recomputed on every input. In each
/// real query row the sink entries are multiplied by β and the freed mass `(1 − β)·Σ sinks` is
/// added to the row's other keys after the first, in proportion to their attention, so rows
/// still sum to 1. The first token keeps its attention. A row whose other keys hold no
/// attention is left as it is (there is nowhere to put the mass). Unchosen heads and padded
/// rows are not touched.
public enum AttentionCalibration {
    /// Interventions on `hook_pattern` that calibrate the given heads for one batch.
    ///
    /// - Parameters:
    ///   - heads: the heads to calibrate; an empty list gives no interventions.
    ///   - batch: the batch the interventions will run on (its lengths decide the real queries).
    ///   - config: the model's configuration, to check the heads.
    ///   - settings: threshold and β.
    /// - Throws: ``SinkError/layerOutOfRange(layer:layers:)``, ``SinkError/headOutOfRange(layer:head:heads:)``
    ///   or ``SinkError/invalidOption(name:value:expected:)``.
    public static func calibrationInterventions(heads: [HeadIndex], batch: TokenBatch, config: TransformerConfig,
                                                settings: CalibrationSettings = CalibrationSettings()) throws -> [Intervention] {
        try settings.validate()
        for head in heads { try head.validate(layers: config.layers, heads: config.heads) }
        let byLayer = Dictionary(grouping: heads, by: \.layer)
        let lengths = batch.lengths
        return byLayer.keys.sorted().map { layer in
            let chosen = Array(Set(byLayer[layer]!.map(\.head))).sorted()
            return Intervention(.pattern(layer), .custom { pattern, _ in
                calibrate(&pattern, heads: chosen, lengths: lengths, settings: settings)
            })
        }
    }

    /// Calibrates a pattern in place.
    ///
    /// - Parameters:
    ///   - pattern: `[batch, head, queryPos, keyPos]`, rows summing to 1.
    ///   - heads: the head indices to calibrate.
    ///   - lengths: real tokens of each row of the batch.
    ///   - settings: threshold and β.
    public static func calibrate(_ pattern: inout Tensor, heads: [Int], lengths: [Int], settings: CalibrationSettings) {
        precondition(pattern.rank == 4 && pattern.shape[2] == pattern.shape[3] && pattern.shape[0] == lengths.count,
                     "pattern \(pattern.shape) is not [batch, head, queryPos, keyPos] for \(lengths.count) rows")
        let (h, t) = (pattern.shape[1], pattern.shape[2])
        precondition(heads.allSatisfy { $0 >= 0 && $0 < h }, "head outside 0..<\(h)")
        pattern.storage.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Kernels.parallelFor(lengths.count * heads.count) { range in
                for m in range {
                    let (row, k) = m.quotientAndRemainder(dividingBy: heads.count)
                    calibrateHead(base + (row * h + heads[k]) * t * t, length: lengths[row], ld: t, settings: settings)
                }
            }
        }
    }

    /// Calibrates one head's `[queryPos, keyPos]` block (row stride `ld`) over its first `n` positions.
    static func calibrateHead(_ a: UnsafeMutablePointer<Float>, length n: Int, ld: Int, settings: CalibrationSettings) {
        guard n > 1 else { return }
        var isSink = [Bool](repeating: false, count: n)
        var any = false
        for j in 1..<n {
            var column = 0.0
            for i in j..<n { column += Double(a[i * ld + j]) }
            if column / Double(n - j) > settings.threshold {
                isSink[j] = true
                any = true
            }
        }
        guard any else { return }
        let beta = settings.beta
        for i in 1..<n {
            let row = a + i * ld
            var sinkMass = 0.0, otherMass = 0.0
            for j in 1...i {
                if isSink[j] { sinkMass += Double(row[j]) } else { otherMass += Double(row[j]) }
            }
            guard sinkMass > 0 && otherMass > 0 else { continue }
            let gain = 1 + (1 - beta) * sinkMass / otherMass
            for j in 1...i {
                row[j] = Float(Double(row[j]) * (isSink[j] ? beta : gain))
            }
        }
    }
}
