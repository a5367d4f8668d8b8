import Foundation

extension Kernels {
    /// Exact GELU `0.5·x·(1 + erf(x/√2))` in place, sixteen lanes at a time.
    ///
    /// `erf` is Abramowitz & Stegun 7.1.26 (`1 − (a₁t + … + a₅t⁵)·e^{−z²}`, `t = 1/(1 + p·z)`,
    /// absolute error ≤ 1.5e-7) over the vector `exp`, so GELU is within about 2e-7·|x| of
    /// PyTorch's; the scalar ``geluExact(_:count:)`` (libm `erf`) is its naive twin and handles
    /// the tail. Pythia's MLPs evaluate it on every hidden unit, where a scalar `erf` per value
    /// would cost as much as the matrix products around it.
    public static func geluExactVector(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let (a1, a2, a3, a4, a5): (Float, Float, Float, Float, Float) =
            (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
        let p: Float = 0.3275911
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let z = v * 0.70710678118654752
            let magnitude = z.replacing(with: -z, where: z .< 0)
            let t = 1 / (1 + p * magnitude)
            let polynomial = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
            var erf = 1 - polynomial * exp16(-magnitude * magnitude)
            erf.replace(with: -erf, where: z .< 0)
            UnsafeMutableRawPointer(x + i).storeBytes(of: 0.5 * v * (1 + erf), as: SIMD16<Float>.self)
            i += 16
        }
        if i < count { geluExact(x + i, count: count - i) }
    }
}
