import XCTest
import MechanicTensor

/// The kernel choice the CLI corrects: only OpenBLAS's generic fallback is overridden, with the
/// best kernels the CPU's flags allow.
final class BLASCoreTests: XCTestCase {
    func testOnlyTheGenericFallbackIsReplaced() {
        let avx512: Set<String> = ["sse3", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        XCTAssertEqual(BLASCore.nativeCoreType(current: "Prescott", flags: avx512), "SkylakeX")
        XCTAssertEqual(BLASCore.nativeCoreType(current: "Prescott", flags: ["sse3", "avx2", "fma"]), "Haswell")
        XCTAssertNil(BLASCore.nativeCoreType(current: "Prescott", flags: ["sse3", "avx"]))
        XCTAssertNil(BLASCore.nativeCoreType(current: "Haswell", flags: avx512), "a right guess stays")
        XCTAssertNil(BLASCore.nativeCoreType(current: "SkylakeX", flags: avx512))
        XCTAssertFalse(BLASCore.current.isEmpty)
    }
}
