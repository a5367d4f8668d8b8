import Foundation
import XCTest
import Mechanic

/// `mechanic sweep --ray` on a local Ray cluster (a head and two worker nodes on 127.0.0.1,
/// started and stopped here): one worker is killed mid-sweep, Ray reruns its jobs elsewhere,
/// every job's run lands in the merged store once, and a second sweep does nothing.
/// Skips without the `ray` package (`pip install ray`).
final class RaySweepTests: XCTestCase {
    var dir: URL!
    var ray: String!

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: StoreWorkflowTests.model + "/model.safetensors") else {
            throw XCTSkip("the embedded reference model is not at \(StoreWorkflowTests.model)")
        }
        guard let found = Self.which("ray") else { throw XCTSkip("the ray package is not installed (pip install ray)") }
        ray = found
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ray-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if ray != nil { _ = try? shell(ray, ["stop", "--force"]) }
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    static func which(_ tool: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/root/.pyenv/shims", "/usr/local/bin"]
        return paths.map { $0 + "/" + tool }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    func shell(_ executable: String, _ arguments: [String], wait: Bool = true) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        if wait { process.waitUntilExit() }
        return process
    }

    /// Pids of the raylets of worker nodes (not the head's), from `ps`.
    func workerRaylets() throws -> [Int32] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/ps")
        process.arguments = ["-eo", "pid,args"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").filter { $0.contains("raylet") && !$0.contains("--head") && $0.contains("node_manager_port") }
            .compactMap { Int32($0.split(separator: " ").first ?? "") }
    }

    func testAKilledWorkersJobsAreRerunAndMergedOnce() throws {
        try shell(ray, ["start", "--head", "--node-ip-address", "127.0.0.1", "--port", "6390", "--num-cpus", "0",
                        "--include-dashboard=false", "--disable-usage-stats"])
        for _ in 0..<2 { try shell(ray, ["start", "--address", "127.0.0.1:6390", "--num-cpus", "1", "--disable-usage-stats"]) }
        let plan = dir.appendingPathComponent("plan.yaml")
        try Data("""
            models: [\(StoreWorkflowTests.model)]
            tasks: [ioi, greater-than, docstring]
            methods: [attribution, patching]
            options: {count: 20, patching-prompts: 4}
            """.utf8).write(to: plan)
        let out = dir.appendingPathComponent("out").path
        let sweep = Process()
        sweep.executableURL = Bundle.main.bundleURL.appendingPathComponent("mechanic")
        sweep.arguments = ["sweep", plan.path, "--out", out, "--ray", "127.0.0.1:6390", "--json"]
        let stdout = Pipe()
        sweep.standardOutput = stdout
        sweep.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try sweep.run()
        // Kill one worker node once jobs are under way.
        Thread.sleep(forTimeInterval: 8)
        let workers = try workerRaylets()
        XCTAssertEqual(workers.count, 2, "two worker raylets")
        if let victim = workers.first { kill(victim, SIGKILL) }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        sweep.waitUntilExit()
        XCTAssertEqual(sweep.terminationStatus, 0, String(decoding: output, as: UTF8.self))
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: Any])
        XCTAssertEqual(summary["failed"] as? Int, 0)
        let store = try ResultStore(path: out + "/sweep.sqlite", readOnly: true)
        let runs = try store.runs()
        XCTAssertEqual(runs.count, 6, "every job once")
        XCTAssertTrue(runs.allSatisfy { $0.status == .completed })
        // A second sweep finds everything done.
        let again = try runMechanic(["sweep", plan.path, "--out", out, "--ray", "127.0.0.1:6390", "--json"])
        let second = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any], again.stderr)
        XCTAssertEqual(second["skipped"] as? Int, 6)
        XCTAssertEqual(second["mergedRuns"] as? Int, 0)
        XCTAssertEqual(try store.runs().count, 6)
    }
}
