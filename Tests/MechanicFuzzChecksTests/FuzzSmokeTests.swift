import Foundation
import XCTest
import MechanicFuzzChecks
import MechanicTensor

/// The fuzz targets' checks for a short smoke time on every test run (so on CI, which cannot
/// afford the 13-minute sanitizer build of `Fuzz/`): each committed seed, each input that once
/// crashed (`Fuzz/Crashes/`), and a fixed number of seeded mutations of the seeds (bit flips,
/// interesting bytes, insertions, deletions, duplicated and spliced chunks), as libFuzzer's
/// mutators make them but without coverage guidance. A finding traps the test process, which
/// fails the run; `scripts/fuzz.sh` is the real, coverage-guided search.
final class FuzzSmokeTests: XCTestCase {
    static let fuzz = repositoryRoot.appendingPathComponent("Fuzz")

    func seeds(_ target: String) throws -> [[UInt8]] {
        let folder = Self.fuzz.appendingPathComponent("Corpus/\(target)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertFalse(names.isEmpty, "no seeds for \(target)")
        return try names.map { [UInt8](try Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    /// Runs `check` on the seeds and on `mutations` mutants; returns the executions.
    func smoke(_ target: String, mutations: Int, _ check: ([UInt8]) -> Void) throws -> Int {
        let seeds = try seeds(target)
        for seed in seeds { check(seed) }
        var mutator = Mutator(seed: 0xF022)
        for _ in 0..<mutations { check(mutator.mutate(seeds)) }
        return seeds.count + mutations
    }

    // Counts sized to about 13 s in all on a debug build here.
    func testSafetensors() throws { XCTAssertGreaterThan(try smoke("safetensors", mutations: 10_000, checkSafetensors), 10_000) }
    func testModelConfig() throws { XCTAssertGreaterThan(try smoke("model-config", mutations: 20_000, checkModelConfig), 20_000) }
    func testTokenizer() throws { XCTAssertGreaterThan(try smoke("tokenizer", mutations: 1_500, checkTokenizer), 1_500) }
    func testFileTask() throws { XCTAssertGreaterThan(try smoke("file-task", mutations: 5_000, checkFileTask), 5_000) }
    func testDOT() throws { XCTAssertGreaterThan(try smoke("dot", mutations: 5_000, checkDOT), 5_000) }

    /// Inputs that once crashed a target stay fixed (`Fuzz/Crashes/<target>/FILE`).
    func testEarlierCrashesStayFixed() throws {
        let folder = Self.fuzz.appendingPathComponent("Crashes")
        let checks: [String: ([UInt8]) -> Void] = ["safetensors": checkSafetensors, "model-config": checkModelConfig,
                                                   "tokenizer": checkTokenizer, "file-task": checkFileTask, "dot": checkDOT]
        var replayed = 0
        for target in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where target != "README.md" {
            let check = try XCTUnwrap(checks[target], "Fuzz/Crashes/\(target) is not a fuzz target")
            let inputs = folder.appendingPathComponent(target)
            for name in try FileManager.default.contentsOfDirectory(atPath: inputs.path).sorted() {
                check([UInt8](try Data(contentsOf: inputs.appendingPathComponent(name))))
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 0, "Fuzz/Crashes holds the DOT finding")
    }
}

/// libFuzzer-style byte mutations, seeded.
struct Mutator {
    var rng: SeededRandom

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }

    /// One to four mutations of a random seed (or a splice of two).
    mutating func mutate(_ seeds: [[UInt8]]) -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["),
                                    UInt8(ascii: "-"), UInt8(ascii: "9"), UInt8(ascii: "e"), UInt8(ascii: "\\"), UInt8(ascii: "\n")]
        for _ in 0..<(1 + below(4)) {
            switch below(7) {
            case 0 where !bytes.isEmpty:                                     // flip a bit
                let i = below(bytes.count)
                bytes[i] ^= UInt8(1) << UInt8(below(8))
            case 1 where !bytes.isEmpty:                                     // an interesting byte
                bytes[below(bytes.count)] = interesting[below(interesting.count)]
            case 2:                                                          // insert random bytes
                let at = below(bytes.count + 1)
                bytes.insert(contentsOf: (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 3 where !bytes.isEmpty:                                     // delete a range
                let at = below(bytes.count), count = 1 + below(min(16, bytes.count - at))
                bytes.removeSubrange(at..<(at + count))
            case 4 where !bytes.isEmpty:                                     // duplicate a chunk
                let at = below(bytes.count), count = 1 + below(min(32, bytes.count - at))
                bytes.insert(contentsOf: bytes[at..<(at + count)], at: below(bytes.count + 1))
            case 5:                                                          // splice another seed's tail
                let other = seeds[below(seeds.count)]
                let cut = below(bytes.count + 1), from = below(other.count + 1)
                bytes = Array(bytes[..<cut]) + other[from...]
            default:                                                         // a number's digits, rewritten
                let digits = bytes.indices.filter { (48...57).contains(bytes[$0]) }
                if !digits.isEmpty {
                    let i = digits[below(digits.count)]
                    bytes.replaceSubrange(i...i, with: Array(["0", "-1", "99999999999999999999", "1e309", "nan"][below(5)].utf8))
                }
            }
        }
        return bytes
    }
}
