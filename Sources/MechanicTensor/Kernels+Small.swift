import Dispatch

extension Kernels {
    /// `c[m, n] = alpha · a[m, k] · b[n, k]ᵀ` for small matrices, with SIMD dot products.
    ///
    /// Attention on short prompts is thousands of 16×16×64 products: a BLAS call costs more
    /// in setup than such a product takes, so these run inline. Only rows `i` and columns
    /// `j ≤ i + diagonal` are computed when `causal` is set (the rest is left untouched).
    @inlinable
    public static func smallGemmNT(
        m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, causal: Bool = false
    ) {
        for i in 0..<m {
            let ai = a + i * lda
            let columns = causal ? min(n, i + 1) : n
            for j in 0..<columns {
                c[i * ldc + j] = alpha * dot(ai, b + j * ldb, count: k)
            }
        }
    }

    /// `c[m, n] = a[m, k] · b[k, n]` for small matrices; with `causal`, row `i` of `a` is
    /// read only up to column `i` (the rest is known to be zero).
    @inlinable
    public static func smallGemmNN(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, causal: Bool = false
    ) {
        for i in 0..<m {
            let ci = c + i * ldc
            ci.update(repeating: 0, count: n)
            let inner = causal ? min(k, i + 1) : k
            for p in 0..<inner {
                axpy(a[i * lda + p], b + p * ldb, ci, count: n)
            }
        }
    }

    /// `Σ x[i]·y[i]` in 16-wide SIMD lanes.
    @inlinable
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            let u = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            acc += u * v
            i += 16
        }
        var sum = acc.sum()
        while i < count {
            sum += x[i] * y[i]
            i += 1
        }
        return sum
    }

    /// `y += alpha · x` in 16-wide SIMD lanes.
    @inlinable
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let a = SIMD16<Float>(repeating: alpha)
        var i = 0
        while i + 16 <= count {
            var v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            v += a * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] += alpha * x[i]
            i += 1
        }
    }

    /// Number of worker threads for the element-wise, norm, softmax and small attention kernels:
    /// the cores of this machine unless `--threads` lowers it (with OpenBLAS's threads), so a
    /// one-thread benchmark runs on one core. Set once at start-up, before any kernel runs; the
    /// kernels split work into disjoint ranges, so their results do not depend on it.
    nonisolated(unsafe) public static var parallelism = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over `0..<count` split into contiguous chunks on all cores.
    ///
    /// - Parameter minimumChunk: below this many items per chunk the work runs on the calling
    ///   thread, since waking a worker costs more than it saves.
    @inlinable
    public static func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(parallelism, count / max(minimumChunk, 1))
        guard chunks > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        // The chunks write disjoint ranges, and concurrentPerform returns only when all are done,
        // so handing the non-Sendable body to the workers is safe.
        withoutActuallyEscaping(body) { body in
            let shared = _UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                shared.value((c * count / chunks)..<((c + 1) * count / chunks))
            }
        }
    }
}

/// Wraps a value the compiler cannot prove Sendable, where the caller guarantees safe use.
@usableFromInline
struct _UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}

import Foundation
