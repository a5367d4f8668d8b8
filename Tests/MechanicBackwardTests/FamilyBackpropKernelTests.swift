import Foundation
import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicTensor

/// The backward kernels of the features beyond GPT-2 against their double-precision twins in
/// `NaiveBackprop+Families.swift`, on random inputs.
///
/// Tolerance: `1e-5 · max|reference| + 1e-6`, as `BackpropKernelTests`.
final class FamilyBackpropKernelTests: XCTestCase {
    static let relative: Float = 1e-5
    static let absolute: Float = 1e-6
    var rng = SeededRandom(seed: 43)

    func random(_ shape: [Int], std: Float = 1) -> Tensor { Tensor.randomNormal(shape, std: std, using: &rng) }

    /// `a + b`, element-wise.
    func sum(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor(shape: a.shape, storage: zip(a.storage, b.storage).map { $0 + $1 }) }

    func testRMSNormForwardAndBackward() {
        for (rows, dim) in [(7, 5), (70, 16), (33, 48)] {
            let x = random([rows, dim], std: 2).adding(0.3), dOut = random([rows, dim]), gain = random([dim], std: 0.3).adding(1)
            var out = Tensor(shape: [rows, dim]), normalized = Tensor(shape: [rows, dim]), scale = Tensor(shape: [rows])
            Backprop.rmsNormForward(x.storage, rows: rows, dim: dim, eps: 1e-6, gain: gain.storage, out: &out.storage,
                                    normalized: &normalized.storage, scale: &scale.storage)
            let naive = NaiveKernels.rmsNorm(x, gain: gain.storage, eps: 1e-6)
            XCTAssertLessThanOrEqual(out.maxAbsDifference(naive.out), 1e-5)
            let initial = random([rows, dim])
            var dx = initial, dGain = Tensor(shape: [dim])
            Backprop.rmsNormBackward(dOut: dOut.storage, normalized: normalized.storage, scale: scale.storage, gain: gain.storage,
                                     rows: rows, dim: dim, dx: &dx.storage, dGain: &dGain.storage)
            let reference = NaiveBackprop.rmsNormBackward(dOut: dOut, x: x, gain: gain.storage, eps: 1e-6)
            assertGradientsClose(dx, sum(reference.dx, initial), relative: Self.relative, absolute: Self.absolute, "dx \(rows)×\(dim)")
            assertGradientsClose(dGain, Tensor(shape: [dim], storage: reference.dGain), relative: Self.relative, "dGain \(rows)×\(dim)")
        }
    }

    func testActivationBackwardOfEveryNonlinearity() {
        for activation in TransformerConfig.Activation.allCases {
            for count in [5, 16, 37, 1000] {
                var x = random([count], std: 3)
                x.storage[0] = 12
                x.storage[count - 1] = -12
                let dOut = random([count]), initial = random([count])
                var dx = initial
                Backprop.activationBackward(activation, dOut: dOut.storage, x: x.storage, dx: &dx.storage, count: count)
                assertGradientsClose(dx, sum(NaiveBackprop.activationBackward(activation, dOut: dOut, x: x), initial),
                                     relative: Self.relative, absolute: Self.absolute, "\(activation) \(count)")
                var y = Tensor(shape: [count])
                Backprop.activationForward(activation, x.storage, out: &y.storage, count: count)
                let expected = Tensor(shape: [count], storage: x.storage.map { Float(NaiveBackprop.activation(activation, Double($0))) })
                XCTAssertLessThanOrEqual(y.maxAbsDifference(expected), 1e-5, "\(activation) forward")
            }
        }
    }

    func testGatedActivationBackward() {
        for activation in [TransformerConfig.Activation.silu, .geluTanh, .geluExact] {
            let count = 301
            let gate = random([count], std: 2), up = random([count]), dOut = random([count])
            let (initialGate, initialUp) = (random([count]), random([count]))
            var (dGate, dUp) = (initialGate, initialUp)
            Backprop.gatedActivationBackward(activation, dOut: dOut.storage, gate: gate.storage, up: up.storage,
                                             dGate: &dGate.storage, dUp: &dUp.storage, count: count)
            let reference = NaiveBackprop.gatedActivationBackward(activation, dOut: dOut, gate: gate, up: up)
            assertGradientsClose(dGate, sum(reference.dGate, initialGate), relative: Self.relative, absolute: Self.absolute, "\(activation) dGate")
            assertGradientsClose(dUp, sum(reference.dUp, initialUp), relative: Self.relative, absolute: Self.absolute, "\(activation) dUp")
        }
    }

    func testSoftcapBackwardFromTheCappedValuesAndMaskedEntries() {
        let count = 50, cap: Float = 2
        var x = random([count], std: 3)
        x.storage[3] = -.infinity
        let dOut = random([count])
        var capped = x
        capped.storage.withUnsafeMutableBufferPointer { Kernels.softcap($0.baseAddress!, count: count, cap: cap) }
        var d = dOut
        d.storage.withUnsafeMutableBufferPointer { Backprop.softcapBackward($0.baseAddress!, capped: capped.storage, count: count, cap: cap) }
        XCTAssertEqual(d.storage[3], 0, "a masked score passes no gradient")
        x.storage[3] = 0
        var expected = NaiveBackprop.softcapBackward(dOut: dOut, x: x, cap: cap)
        expected.storage[3] = 0
        assertGradientsClose(d, expected, relative: Self.relative, absolute: Self.absolute, "soft-cap")
    }

    func testRotaryBackwardIsTheTransposedRotationForFullAndPartialRotary() {
        let (b, t, h, dh) = (2, 7, 3, 8)
        for rotary in [Rotary(dims: 8, theta: 10000), Rotary(dims: 4, theta: 100), Rotary(dims: 8, theta: 500, style: .interleaved)] {
            let angles = RotaryTable(rotary, positions: t)
            let dqkv = random([b, t, 3 * h * dh])
            var rotated = dqkv
            rotated.storage.withUnsafeMutableBufferPointer {
                Backprop.rotaryBackward($0.baseAddress!, batch: b, positions: t, heads: h, dHead: dh, rotary: rotary, angles: angles)
            }
            for part in 0..<3 {
                let expected = part == 2
                    ? dqkv.headSplit(part: part, heads: h)                                   // values do not rotate
                    : NaiveBackprop.rotaryBackward(dOut: dqkv.headSplit(part: part, heads: h),
                                                   inverseFrequencies: rotary.inverseFrequencies,
                                                   interleaved: rotary.style == .interleaved)
                assertGradientsClose(rotated.headSplit(part: part, heads: h), expected, relative: Self.relative,
                                     absolute: Self.absolute, "rotary \(rotary.dims) part \(part)")
            }
            // ⟨R x, y⟩ = ⟨x, Rᵀ y⟩: the forward rotation and the backward agree as adjoints.
            let x = random([b, t, 3 * h * dh])
            var rx = x
            rx.storage.withUnsafeMutableBufferPointer {
                Backprop.rotaryForward($0.baseAddress!, batch: b, positions: t, heads: h, dHead: dh, rotary: rotary, angles: angles)
            }
            let left = zip(rx.storage, dqkv.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let right = zip(x.storage, rotated.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(left, right, accuracy: 1e-4 * abs(left) + 1e-4)
        }
    }

    func testUngroupedKeyValueGradientsSumBackIntoTheirGroups() {
        for (h, kv) in [(4, 2), (4, 1), (6, 3)] {
            let (rows, dh) = (5, 3)
            let grouped = random([rows, (h + 2 * kv) * dh])
            var ungrouped = Tensor(shape: [rows, 3 * h * dh])
            Kernels.ungroupKeysValues(grouped.storage, rows: rows, heads: h, kvHeads: kv, dHead: dh, out: &ungrouped.storage)
            // Query head i reads kv head i / (h / kv).
            for head in 0..<h {
                for i in 0..<dh {
                    XCTAssertEqual(ungrouped[2, h * dh + head * dh + i], grouped[2, h * dh + (head / (h / kv)) * dh + i])
                }
            }
            let d = random([rows, 3 * h * dh]), initial = random([rows, (h + 2 * kv) * dh])
            var dGrouped = initial
            Backprop.regroupKeysValues(d.storage, rows: rows, heads: h, kvHeads: kv, dHead: dh, dGrouped: &dGrouped.storage)
            assertGradientsClose(dGrouped, sum(NaiveBackprop.regroupKeysValues(d, heads: h, kvHeads: kv, dHead: dh), initial),
                                 relative: Self.relative, absolute: Self.absolute, "regroup \(h)/\(kv)")
        }
    }

    /// Sliding window and soft-cap, on the inline path, heads in parallel through BLAS, and tiled BLAS.
    func testWindowedSoftCappedAttentionOnEveryPath() {
        for (b, t, h, dh, limit, inline, window, cap) in [
            (2, 9, 3, 4, 64, 24, 4, Float(2)), (2, 9, 3, 4, 64, 0, 4, nil), (2, 40, 2, 8, 64, 24, nil, Float(1.5)),
            (1, 70, 2, 8, 64, 24, 5, Float(2)), (2, 9, 3, 4, 0, 24, 3, Float(2)), (2, 9, 2, 4, 64, 24, 1, nil),
        ] as [(Int, Int, Int, Int, Int, Int, Int?, Float?)] {
            let d = h * dh
            let qkv = random([b, t, 3 * d], std: 1.5), dz = random([b, t, d])
            let scale = 1 / Float(dh).squareRoot()
            var pattern = Tensor(shape: [b, h, t, t]), z = Tensor(shape: [b, t, d]), capped = Tensor(shape: [b, h, t, t])
            Backprop.attentionForward(qkv: qkv.storage, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                      pattern: &pattern.storage, z: &z.storage, smallLimit: limit, window: window, softcap: cap,
                                      capped: &capped.storage)
            let naive = NaiveBackprop.attentionForward(qkv: qkv, heads: h, dHead: dh, scale: scale, window: window, softcap: cap)
            let tag = "t=\(t) window \(window.map(String.init) ?? "-") cap \(cap.map { "\($0)" } ?? "-") limits \(limit)/\(inline)"
            XCTAssertLessThanOrEqual(pattern.maxAbsDifference(naive.pattern), 1e-5, "pattern \(tag)")
            XCTAssertLessThanOrEqual(z.maxAbsDifference(naive.z), 1e-5, "z \(tag)")
            if cap != nil {
                for i in 0..<capped.count where naive.scores.storage[i].isFinite {
                    XCTAssertEqual(capped.storage[i], naive.scores.storage[i], accuracy: 1e-5, "capped scores \(tag)")
                }
            }

            let initial = random([b, t, 3 * d])
            var dqkv = initial, dScores = Tensor(shape: [b, h, t, t], repeating: 7)
            Backprop.attentionBackward(dz: dz.storage, qkv: qkv.storage, pattern: pattern.storage, batch: b, positions: t,
                                       heads: h, dHead: dh, scale: scale, dqkv: &dqkv.storage, dScores: &dScores.storage,
                                       smallLimit: limit, inlineLimit: inline, capped: capped.storage, softcap: cap)
            let reference = NaiveBackprop.attentionBackward(dz: dz, qkv: qkv, heads: h, dHead: dh, scale: scale, window: window,
                                                            softcap: cap)
            assertGradientsClose(dqkv, sum(reference.dqkv, initial), relative: Self.relative, absolute: Self.absolute, "dqkv \(tag)")
            assertGradientsClose(dScores, reference.dScores, relative: Self.relative, absolute: Self.absolute, "dScores \(tag)")
            // Keys outside the window (and in the future) get exactly zero gradient.
            for m in 0..<(b * h) {
                for i in 0..<t {
                    for j in 0..<t where j > i || (window.map { i - j >= $0 } ?? false) {
                        XCTAssertEqual(dScores.storage[(m * t + i) * t + j], 0, "masked score (\(i), \(j)) \(tag)")
                    }
                }
            }
            // Without the scores' gradient the result is the same.
            var lean = initial
            Backprop.attentionBackward(dz: dz.storage, qkv: qkv.storage, pattern: pattern.storage, batch: b, positions: t,
                                       heads: h, dHead: dh, scale: scale, dqkv: &lean.storage, smallLimit: limit,
                                       inlineLimit: inline, capped: capped.storage, softcap: cap)
            assertGradientsClose(lean, dqkv, relative: Self.relative, absolute: Self.absolute, "lean dqkv \(tag)")
        }
    }
}
