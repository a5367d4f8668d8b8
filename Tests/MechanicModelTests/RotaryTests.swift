import Foundation
import XCTest
@testable import MechanicModel
import MechanicTensor

/// The rotary kernel against the rotation by its definition, in both pairings.
final class RotaryTests: XCTestCase {
    func testRotaryKernelIsTheRotationOfItsNaiveTwin() {
        let rotary = Rotary(dims: 6, theta: 10000)
        let inverse = rotary.inverseFrequencies
        var rng = SeededRandom(seed: 9)
        let (positions, heads, dHead) = (7, 2, 8)
        let x = Tensor.randomNormal([1, positions, heads, dHead], std: 1, using: &rng)
        var cos = [Float](), sin = [Float]()
        for p in 0..<positions { for f in inverse { cos.append(Foundation.cos(Float(p) * f)); sin.append(Foundation.sin(Float(p) * f)) } }
        for interleaved in [false, true] {
            var y = x.storage
            y.withUnsafeMutableBufferPointer { buffer in
                Kernels.rotary(buffer.baseAddress!, batch: 1, positions: positions, heads: heads, dHead: dHead, stride: heads * dHead,
                               half: 3, cos: cos, sin: sin, interleaved: interleaved)
            }
            for p in 0..<positions {
                for h in 0..<heads {
                    let start = (p * heads + h) * dHead
                    let head = Array(x.storage[start..<(start + dHead)])
                    let expected = NaiveKernels.rotary(head, position: p, inverseFrequencies: inverse, interleaved: interleaved)
                    for i in 0..<dHead { XCTAssertEqual(y[start + i], expected[i], accuracy: 1e-5, "p \(p) h \(h) i \(i)") }
                }
            }
        }
    }

    /// Interleaved pairs are the halves pairing of a permuted head: rotating then permuting
    /// equals permuting then rotating.
    func testInterleavedIsHalvesOnPermutedDimensions() {
        let inverse = Rotary(dims: 8, theta: 500).inverseFrequencies
        let v: [Float] = (0..<8).map { Float($0) * 0.37 - 1 }
        let interleaved = NaiveKernels.rotary(v, position: 5, inverseFrequencies: inverse, interleaved: true)
        // Interleaved index 2i ↔ halves index i, 2i+1 ↔ i + 4.
        let toHalves = { (x: [Float]) in (0..<4).map { x[2 * $0] } + (0..<4).map { x[2 * $0 + 1] } }
        let halves = NaiveKernels.rotary(toHalves(v), position: 5, inverseFrequencies: inverse, interleaved: false)
        XCTAssertEqual(toHalves(interleaved), halves)
    }
}
