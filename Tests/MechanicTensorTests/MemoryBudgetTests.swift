import XCTest
import MechanicTensor

/// Sizes, limits and the refusal message of the memory check that runs before large work.
final class MemoryBudgetTests: XCTestCase {
    func testSizesParseAndPrint() {
        XCTAssertEqual(MemoryBudget.parse("1234"), 1234)
        XCTAssertEqual(MemoryBudget.parse("512K"), 512 * 1024)
        XCTAssertEqual(MemoryBudget.parse("1.5G"), 3 << 29)
        XCTAssertEqual(MemoryBudget.parse("2gib"), 2 << 30)
        XCTAssertEqual(MemoryBudget.parse(" 3MB "), 3 << 20)
        for bad in ["", "G", "-1M", "lots", "nanG", "99999999999T"] { XCTAssertNil(MemoryBudget.parse(bad), bad) }
        XCTAssertEqual(MemoryBudget.format(512), "512 bytes")
        XCTAssertEqual(MemoryBudget.format(3 << 29), "1.5 GB")
        XCTAssertEqual(MemoryBudget.floats(2, 3, 4), 96)
        XCTAssertEqual(MemoryBudget.floats(Int.max, Int.max), .max, "saturates")
        XCTAssertEqual(MemoryBudget.sum(.max, 5), .max, "saturates")
    }

    /// The limit variable lowers what is available, and work above it is refused with the
    /// estimate and the advice; work below it, or with nothing known, passes.
    func testWorkAboveTheLimitIsRefusedWithItsEstimate() throws {
        let machine = MemoryBudget.available(environment: [:])
        let capped = MemoryBudget.available(environment: [MemoryBudget.limitVariable: "1M"])
        XCTAssertEqual(capped, min(machine ?? .max, 1 << 20))
        XCTAssertThrowsError(try MemoryBudget.check(3 << 20, for: "the test", advice: "ask for less",
                                                    environment: [MemoryBudget.limitVariable: "1M"])) { error in
            XCTAssertEqual("\(error)", "the test needs about 3.0 MB of memory, and 1.0 MB is available"
                           + " (MemAvailable, the cgroup limit and $MECHANIC_MEMORY_LIMIT); ask for less")
        }
        XCTAssertNoThrow(try MemoryBudget.check(1 << 19, for: "the test", advice: "", environment: [MemoryBudget.limitVariable: "1M"]))
        if let machine {
            XCTAssertThrowsError(try MemoryBudget.check(machine + (1 << 40), for: "more than the machine", advice: "", environment: [:]))
        }
    }
}
