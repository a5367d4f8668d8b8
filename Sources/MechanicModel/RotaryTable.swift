import Foundation

/// Cosines and sines of a rotary embedding's angles for positions `0..<positions`; the forward
/// pass and the taped forward of gradient runs share it.
///
/// Angles are `Float(position) · invFreq` rounded to `Float`, as PyTorch's float32 product
/// forms them in HF's rotary modules; their cosine and sine are then taken in double precision
/// and rounded, which is within an ulp of PyTorch's float32 `cos`/`sin`.
public struct RotaryTable: Sendable {
    /// Positions a model precomputes at load (2048 × 64 pairs is 1 MB).
    static let precomputedPositions = 2048
    /// Positions covered.
    public let positions: Int
    /// `[positions, dims / 2]`.
    public let cos: [Float]
    public let sin: [Float]

    public init(_ rotary: Rotary, positions: Int) {
        let inverse = rotary.inverseFrequencies
        let half = inverse.count
        var cos = [Float](repeating: 0, count: positions * half)
        var sin = [Float](repeating: 0, count: positions * half)
        for p in 0..<positions {
            for i in 0..<half {
                let angle = Double(Float(p) * inverse[i])
                cos[p * half + i] = Float(Foundation.cos(angle))
                sin[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        self.positions = positions
        self.cos = cos
        self.sin = sin
    }
}
