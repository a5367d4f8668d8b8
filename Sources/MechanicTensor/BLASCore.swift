import CBLAS
import Foundation

/// Which OpenBLAS kernels run the matrix products, and the better ones when OpenBLAS guessed wrong.
///
/// OpenBLAS built with `DYNAMIC_ARCH` (Debian's) picks its kernels from the CPU model when the
/// library loads. A model newer than the release (0.3.21 in Debian 12 does not know Intel's family
/// 6 model 207) falls back to `Prescott`, SSE3 kernels that make every product 2–4× slower on a
/// CPU with AVX2 or AVX-512. `OPENBLAS_CORETYPE` overrides the guess, but only before the library
/// loads, so the `mechanic` binary re-executes itself with it set (``nativeCoreType(current:flags:)``
/// decides); library users can set it themselves.
public enum BLASCore {
    /// The kernels OpenBLAS chose, e.g. `Haswell`, `SkylakeX`, `Prescott`.
    public static var current: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// The CPU's feature flags from `/proc/cpuinfo` (empty where there is none).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// The `OPENBLAS_CORETYPE` to run with when OpenBLAS fell back to its generic `Prescott`
    /// kernels on a CPU that has better ones: `SkylakeX` with AVX-512 (F, CD, BW, DQ, VL),
    /// `Haswell` with AVX2 and FMA; `nil` when OpenBLAS chose something else or the CPU has neither.
    public static func nativeCoreType(current: String, flags: Set<String>) -> String? {
        guard current == "Prescott" else { return nil }
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }
}
