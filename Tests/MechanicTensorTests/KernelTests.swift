import Foundation
import XCTest
@testable import MechanicTensor

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SeededRandom(seed: seed)
    let n = Tensor.count(of: shape)
    return Tensor(shape: shape, storage: (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) })
}

final class KernelTests: XCTestCase {
    func testGemmMatchesNaiveTwinWithAllTransposes() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (m, n, k) = (7, 5, 11)
            let a = randomTensor(ta ? [k, m] : [m, k], seed: 1)
            let b = randomTensor(tb ? [n, k] : [k, n], seed: 2)
            let fast = a.matmul(b, transposeSelf: ta, transposeOther: tb)
            let slow = NaiveKernels.matmul(a, b, transposeA: ta, transposeB: tb)
            XCTAssertEqual(fast.shape, [m, n])
            XCTAssertLessThan(fast.maxAbsDifference(slow), 1e-5, "transA \(ta) transB \(tb)")
        }
    }

    func testGemmHonoursStridesAndBeta() {
        // One 2×2 block inside a 2×4 buffer, accumulated onto existing values.
        let a: [Float] = [1, 2, 9, 9, 3, 4, 9, 9]
        let b: [Float] = [1, 0, 0, 1]
        var c: [Float] = [10, 10, 10, 10]
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    Kernels.gemm(m: 2, n: 2, k: 2, a: a.baseAddress!, lda: 4, b: b.baseAddress!, ldb: 2,
                                 beta: 1, c: c.baseAddress!, ldc: 2)
                }
            }
        }
        XCTAssertEqual(c, [11, 12, 13, 14])
    }

    func testLayerNormMatchesNaiveTwin() {
        let x = randomTensor([6, 13], seed: 3, scale: 4)
        let gain = randomTensor([13], seed: 4).storage, bias = randomTensor([13], seed: 5).storage
        var out = Tensor(shape: [6, 13]), normalized = Tensor(shape: [6, 13])
        var scale = [Float](repeating: 0, count: 6)
        x.storage.withUnsafeBufferPointer { x in
            Kernels.layerNorm(x.baseAddress!, rows: 6, dim: 13, eps: 1e-5, gain: gain, bias: bias,
                              scale: &scale, normalized: &normalized.storage, out: &out.storage)
        }
        let reference = NaiveKernels.layerNorm(x, gain: gain, bias: bias, eps: 1e-5)
        XCTAssertLessThan(out.maxAbsDifference(reference.out), 1e-5)
        XCTAssertLessThan(normalized.maxAbsDifference(reference.normalized), 1e-5)
        for (s, r) in zip(scale, reference.scale) { XCTAssertEqual(s, r, accuracy: 1e-5) }
    }

    func testGeluNewMatchesNaiveTwinAcrossRange() {
        // Values from −12 to 12 cover both the SIMD body and the scalar tail, and tanh saturation.
        let values = stride(from: Float(-12), through: 12, by: 0.0137).map { $0 } + [-100, -30, 30, 100, 0, -0.0]
        var fast = Tensor(shape: [values.count], storage: values)
        fast.storage.withUnsafeMutableBufferPointer { Kernels.geluNew($0.baseAddress!, count: $0.count) }
        let slow = NaiveKernels.geluNew(Tensor(shape: [values.count], storage: values))
        XCTAssertLessThan(fast.maxAbsDifference(slow), 2e-6)
    }

    func testVectorExpMatchesFoundation() {
        for start in stride(from: Float(-90), to: 90, by: 16 * 0.173) {
            let x = SIMD16<Float>((0..<16).map { start + Float($0) * 0.173 })
            let e = Kernels.exp16(x)
            for i in 0..<16 where x[i] > -87 && x[i] < 88 {
                let exact = Foundation.exp(Double(x[i]))
                XCTAssertEqual(Double(e[i]), exact, accuracy: exact * 5e-7, "exp(\(x[i]))")
            }
        }
    }

    func testCausalSoftmaxMatchesNaiveTwinAndZeroesTheFuture() {
        var s = randomTensor([5, 5], seed: 6, scale: 8)
        let slow = NaiveKernels.causalSoftmax(s)
        s.storage.withUnsafeMutableBufferPointer { Kernels.causalSoftmax($0.baseAddress!, queries: 5, keys: 5, ld: 5) }
        XCTAssertLessThan(s.maxAbsDifference(slow), 1e-6)
        for q in 0..<5 {
            XCTAssertEqual((0..<5).map { s[q, $0] }.reduce(0, +), 1, accuracy: 1e-6)
            for k in (q + 1)..<5 where k < 5 { XCTAssertEqual(s[q, k], 0) }
        }
    }

    func testCausalSoftmaxVectorPathOnLongRows() {
        // Rows longer than the 8-wide SIMD body, with large score spreads (exp underflow included).
        var s = randomTensor([37, 37], seed: 8, scale: 60)
        let slow = NaiveKernels.causalSoftmax(s)
        s.storage.withUnsafeMutableBufferPointer { Kernels.causalSoftmax($0.baseAddress!, queries: 37, keys: 37, ld: 37) }
        XCTAssertLessThan(s.maxAbsDifference(slow), 1e-6)
    }

    func testKeyMaskedSoftmaxMatchesNaiveTwinAndZeroesThePadding() {
        for (t, length) in [(5, 5), (5, 3), (37, 30)] {
            var s = randomTensor([t, t], seed: 9, scale: 20)
            for q in 0..<t { for k in length..<t { s[q, k] = -.infinity } }   // as the score kernel leaves them
            let slow = NaiveKernels.maskedSoftmax(s, visible: length)
            s.storage.withUnsafeMutableBufferPointer { Kernels.keyMaskedSoftmax($0.baseAddress!, queries: t, positions: t, length: length) }
            XCTAssertLessThan(s.maxAbsDifference(slow), 1e-6, "\(t) positions, \(length) real")
            for q in 0..<t {
                XCTAssertEqual((0..<t).map { s[q, $0] }.reduce(0, +), 1, accuracy: 1e-5)
                for k in length..<t { XCTAssertEqual(s[q, k], 0) }
                if length > q + 1 { XCTAssertGreaterThan(s[q, length - 1], 0, "a query sees keys after it") }
            }
        }
    }

    func testGatherCopiesRows() {
        let table = Tensor(shape: [3, 2], storage: [0, 1, 10, 11, 20, 21])
        let ids: [Int32] = [2, 0, 2]
        var out = [Float](repeating: -1, count: 6)
        table.storage.withUnsafeBufferPointer { t in
            Kernels.gather(table: t.baseAddress!, dim: 2, ids: ids, count: 3, out: &out)
        }
        XCTAssertEqual(out, [20, 21, 0, 1, 20, 21])
    }

    func testTensorShapeHelpers() {
        var t = Tensor(shape: [2, 3, 4])
        XCTAssertEqual(t.strides, [12, 4, 1])
        t[1, 2, 3] = 5
        XCTAssertEqual(t.storage[23], 5)
        XCTAssertEqual(t.reshaped([6, 4])[5, 3], 5)
        let inf = Tensor(shape: [2], storage: [-.infinity, 1])
        XCTAssertEqual(inf.maxAbsDifference(Tensor(shape: [2], storage: [-.infinity, 1.5])), 0.5)
    }
}

final class SmallKernelTests: XCTestCase {
    func testSmallProductsMatchNaiveTwin() {
        let (m, n, k) = (13, 13, 37)
        let a = randomTensor([m, k], seed: 11), b = randomTensor([n, k], seed: 12)
        var c = Tensor(shape: [m, n], repeating: .nan)
        a.storage.withUnsafeBufferPointer { a in
            b.storage.withUnsafeBufferPointer { b in
                c.storage.withUnsafeMutableBufferPointer { c in
                    Kernels.smallGemmNT(m: m, n: n, k: k, alpha: 0.5, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: k,
                                        c: c.baseAddress!, ldc: n, causal: true)
                }
            }
        }
        let reference = NaiveKernels.matmul(a, b, transposeB: true)
        for i in 0..<m {
            for j in 0..<n {
                if j <= i { XCTAssertEqual(c[i, j], 0.5 * reference[i, j], accuracy: 1e-5) } else { XCTAssertTrue(c[i, j].isNaN) }
            }
        }
        // NN with a lower-triangular left factor: the causal shortcut must equal the full product.
        var p = randomTensor([m, m], seed: 13)
        for i in 0..<m { for j in (i + 1)..<m where j < m { p[i, j] = 0 } }
        let v = randomTensor([m, 21], seed: 14)
        for causal in [true, false] {
            var z = Tensor(shape: [m, 21], repeating: .nan)
            p.storage.withUnsafeBufferPointer { p in
                v.storage.withUnsafeBufferPointer { v in
                    z.storage.withUnsafeMutableBufferPointer { z in
                        Kernels.smallGemmNN(m: m, n: 21, k: m, a: p.baseAddress!, lda: m, b: v.baseAddress!, ldb: 21,
                                            c: z.baseAddress!, ldc: 21, causal: causal)
                    }
                }
            }
            XCTAssertLessThan(z.maxAbsDifference(NaiveKernels.matmul(p, v)), 1e-5)
        }
    }

    func testParallelForCoversEveryIndexOnce() {
        for count in [0, 1, 7, 1000] {
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                let base = h.baseAddress
                Kernels.parallelFor(count) { range in for i in range { base![i] += 1 } }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: count))
        }
    }

    func testRowsSelectsFirstAxisSlicesInOrder() {
        let t = Tensor(shape: [3, 2, 2], storage: (0..<12).map(Float.init))
        let picked = t.rows([2, 0, 2])
        XCTAssertEqual(picked.shape, [3, 2, 2])
        XCTAssertEqual(picked.storage, [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])
        XCTAssertEqual(t.rows([]).shape, [0, 2, 2])
    }
}

/// The kernels of the families beyond GPT-2 against their naive twins.
final class FamilyKernelTests: XCTestCase {
    func testVectorExactGELUIsLibmsWithin2e7Relative() {
        let values = (0..<4099).map { Float($0 - 2049) / 200 } + [0, -0, 1e-30, -1e-30, 30, -30, 80, -80]
        var fast = values, slow = values
        fast.withUnsafeMutableBufferPointer { Kernels.geluExactVector($0.baseAddress!, count: $0.count) }
        slow.withUnsafeMutableBufferPointer { Kernels.geluExact($0.baseAddress!, count: $0.count) }
        for (i, x) in values.enumerated() {
            XCTAssertEqual(fast[i], slow[i], accuracy: 3e-7 * max(1, abs(x)), "x = \(x)")
        }
    }

    func testRMSNormAgreesWithItsDoubleTwin() {
        var rng = SeededRandom(seed: 3)
        let x = Tensor.randomNormal([5, 37], std: 2, using: &rng)
        let gain = (0..<37).map { Float($0) / 37 + 0.5 }
        let naive = NaiveKernels.rmsNorm(x, gain: gain, eps: 1e-6)
        var out = [Float](repeating: 0, count: x.count), scale = [Float](repeating: 0, count: 5)
        var normalized = [Float](repeating: 0, count: x.count)
        x.storage.withUnsafeBufferPointer { xs in
            Kernels.rmsNorm(xs.baseAddress!, rows: 5, dim: 37, eps: 1e-6, gain: gain, scale: &scale, normalized: &normalized, out: &out)
        }
        for i in 0..<x.count {
            XCTAssertEqual(out[i], naive.out.storage[i], accuracy: 1e-5)
            XCTAssertEqual(normalized[i], naive.normalized.storage[i], accuracy: 1e-5)
        }
        for r in 0..<5 { XCTAssertEqual(scale[r], naive.scale[r], accuracy: 1e-5) }
    }
}
