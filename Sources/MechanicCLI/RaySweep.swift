import Foundation

/// The Ray path of `mechanic sweep`: the jobs go to `scripts/ray_sweep.py`, which submits each as
/// a Ray task running the `mechanic` binary on a worker and reports each result as a JSON line.
enum RaySweep {
    /// A job as the driver reads it.
    struct Task: Codable {
        var fingerprint: String
        var arguments: [String]
        var shard: String
        var log: String
    }

    /// A finished task as the driver reports it.
    struct Report: Codable {
        var fingerprint: String
        var status: Int32
        var seconds: Double
        var attempts: Int?
    }

    static func run(_ jobs: [SweepPlan.Job], address: String, mechanic: String, root: URL,
                    shard: (SweepPlan.Job) -> String, log: (SweepPlan.Job) -> String, quiet: Bool) throws -> [SweepCommand.Outcome] {
        guard !jobs.isEmpty else { return [] }
        let driver = try script()
        let tasks = jobs.map { Task(fingerprint: $0.fingerprint, arguments: $0.arguments, shard: shard($0), log: log($0)) }
        let file = root.appendingPathComponent("ray-jobs.json")
        try JSONEncoder().encode(tasks).write(to: file, options: .atomic)
        for task in tasks { SweepCommand.clear(task.shard) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", driver, "--address", address, "--jobs", file.path, "--mechanic", mechanic]
        let output = Pipe()
        process.standardOutput = output
        // Quiet (--json) runs keep the driver's messages in a file, so a failure can point at them.
        let driverLog = root.appendingPathComponent("ray-driver.log")
        if quiet {
            FileManager.default.createFile(atPath: driverLog.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: driverLog)
        }
        do { try process.run() } catch { throw CLIError("cannot start python3 for the Ray driver: \(error.localizedDescription)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            var why = "the Ray driver failed (exit \(process.terminationStatus)); is ray installed (pip install ray) and the cluster at \(address) up?"
            if quiet, let text = try? String(contentsOf: driverLog, encoding: .utf8),
               let last = text.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                why += " Its last message: \(last.prefix(300)) (all of it in \(driverLog.path))"
            }
            throw CLIError(why)
        }
        var reports: [String: Report] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let report = try? JSONDecoder().decode(Report.self, from: Data(line.utf8)) { reports[report.fingerprint] = report }
        }
        return jobs.map { job in
            let report = reports[job.fingerprint]
            let ok = report?.status == 0 && SweepCommand.isComplete(shard(job))
            return SweepCommand.Outcome(fingerprint: job.fingerprint, model: job.model, task: job.task, method: job.method, seed: job.seed,
                                        status: ok ? "done" : "failed", seconds: report?.seconds ?? 0, attempts: report?.attempts ?? 1,
                                        log: log(job))
        }
    }

    /// `scripts/ray_sweep.py` of the repository this binary was built from.
    static func script() throws -> String {
        var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("scripts/ray_sweep.py")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
            folder.deleteLastPathComponent()
        }
        throw CLIError("scripts/ray_sweep.py not found beside this mechanic binary's repository")
    }
}
