import ArgumentParser
import Dispatch
import Foundation
import Mechanic

/// `mechanic sweep PLAN`: many discover or sinks runs, each into its own store shard, on this
/// machine or on a Ray cluster, merged into one store at the end.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a plan of models × tasks × methods × seeds, locally or on Ray, and merge the results into one store.",
        discussion: """
        The plan is YAML:

          command: discover                     # or sinks
          models: [artifacts/models/mechanic-mini]
          tasks: [ioi, induction]
          methods: [attribution, patching]      # one job per method (discover only)
          seeds: [0, 1]
          options: {count: 40, patching-prompts: 8}

        Each job is one `mechanic` run writing its own shard, <out>/shards/<fingerprint>.sqlite; \
        the fingerprint hashes the model's checksum, the command, task, method, seed and options, \
        so running the sweep again skips every job whose shard holds a completed run and reruns \
        failed or lost ones. Jobs run --jobs at a time with one BLAS thread each; with --ray the \
        plan's jobs are Ray tasks (scripts/ray_sweep.py, `pip install ray`; the shards folder must \
        be on storage the workers share), and Ray retries a job whose worker died. At the end every \
        completed shard is merged into --into (runs deduplicated by provenance, as db merge does).

        Examples:
          mechanic sweep plan.yaml --jobs 2
          mechanic sweep plan.yaml --ray auto --json
        """
    )

    @Argument(help: ArgumentHelp("The plan file (YAML).", valueName: "plan")) var plan: String
    @Option(help: ArgumentHelp("Folder for shards and job logs.", valueName: "folder")) var out = "sweep"
    @Option(help: ArgumentHelp("Store the shards are merged into (default: <out>/sweep.sqlite).", valueName: "file")) var into: String?
    @Option(help: "Jobs at a time on this machine (default: the number of cores).") var jobs: Int?
    @Option(help: "Attempts per job on this machine before it counts as failed.") var attempts = 2
    @Option(help: ArgumentHelp("Run the jobs as Ray tasks on the cluster at this address (auto: the local one).", valueName: "address"))
    var ray: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if let jobs { try OptionLimits.check(jobs, 1...256, "--jobs") }
        try OptionLimits.check(attempts, 1...10, "--attempts")
    }

    /// One job's outcome.
    struct Outcome: Codable {
        var fingerprint: String
        var model: String
        var task: String
        var method: String?
        var seed: UInt64
        /// `done` (ran now), `skipped` (done before), `failed`.
        var status: String
        var seconds: Double
        var attempts: Int
        var log: String
    }

    struct Summary: Codable {
        var jobs: Int
        var done: Int
        var skipped: Int
        var failed: Int
        var store: String
        var mergedRuns: Int
        var seconds: Double
        var outcomes: [Outcome]
    }

    func run() throws {
        let start = Date()
        let sweep = try SweepPlan.load(plan)
        let list = try sweep.jobs { RecordedRun.checksum(URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath)) }
        let root = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
        let shards = root.appendingPathComponent("shards"), logs = root.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: shards, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let shard = { (job: SweepPlan.Job) in shards.appendingPathComponent("\(job.fingerprint).sqlite").path }
        let log = { (job: SweepPlan.Job) in logs.appendingPathComponent("\(job.fingerprint).log").path }

        var outcomes: [String: Outcome] = [:]
        var pending: [SweepPlan.Job] = []
        for job in list where outcomes[job.fingerprint] == nil {
            if Self.isComplete(shard(job)) {
                outcomes[job.fingerprint] = Outcome(fingerprint: job.fingerprint, model: job.model, task: job.task, method: job.method,
                                                    seed: job.seed, status: "skipped", seconds: 0, attempts: 0, log: log(job))
            } else {
                pending.append(job)
            }
        }
        if !json { printError("\(list.count) jobs: \(outcomes.count) already done, \(pending.count) to run" + (ray.map { " on Ray (\($0))" } ?? "")) }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let ran: [Outcome]
        if let ray {
            ran = try RaySweep.run(pending, address: ray, mechanic: executable, root: root, shard: shard, log: log, quiet: json)
        } else {
            ran = runLocally(pending, executable: executable, shard: shard, log: log)
        }
        for o in ran { outcomes[o.fingerprint] = o }

        // Merge every completed shard, in plan order.
        let target = into.map { ($0 as NSString).expandingTildeInPath } ?? root.appendingPathComponent("sweep.sqlite").path
        let store = try ResultStore(path: target)
        var merged = 0
        var ordered: [Outcome] = []
        for job in list {
            guard let o = outcomes[job.fingerprint], !ordered.contains(where: { $0.fingerprint == o.fingerprint }) else { continue }
            ordered.append(o)
            if o.status != "failed" { merged += try store.merge(shard: shard(job)).merged.count }
        }
        let summary = Summary(jobs: ordered.count, done: ordered.filter { $0.status == "done" }.count,
                              skipped: ordered.filter { $0.status == "skipped" }.count, failed: ordered.filter { $0.status == "failed" }.count,
                              store: target, mergedRuns: merged, seconds: Date().timeIntervalSince(start), outcomes: ordered)
        if json { try printJSON(summary) } else { Self.printSummary(summary) }
        if summary.failed > 0 { throw CLIError("\(summary.failed) of \(summary.jobs) jobs failed; their logs are in \(logs.path); run the sweep again to retry them") }
    }

    /// Whether a shard holds a completed run (an interrupted or failed job's shard does not).
    static func isComplete(_ path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path), let store = try? ResultStore(path: path, readOnly: true),
              let runs = try? store.runs() else { return false }
        return runs.contains { $0.status == .completed }
    }

    /// Removes a shard and its WAL files before a job (re)writes it.
    static func clear(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// A bounded pool of `mechanic` processes, one BLAS thread each; a failed job is retried up to `--attempts`.
    func runLocally(_ pending: [SweepPlan.Job], executable: String, shard: (SweepPlan.Job) -> String,
                    log: (SweepPlan.Job) -> String) -> [Outcome] {
        let width = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let slots = DispatchSemaphore(value: width)
        let pool = Pool(total: pending.count, quiet: json)
        let group = DispatchGroup()
        let attempts = self.attempts
        for job in pending {
            slots.wait()
            let (shardPath, logPath) = (shard(job), log(job))
            pool.started()
            group.enter()
            DispatchQueue.global().async {
                let started = Date()
                var tries = 0, ok = false
                while tries < attempts && !ok {
                    tries += 1
                    Self.clear(shardPath)
                    ok = Self.runProcess(executable, job.arguments + ["--db", shardPath, "--threads", "1"], log: logPath)
                        && Self.isComplete(shardPath)
                }
                pool.finished(Outcome(fingerprint: job.fingerprint, model: job.model, task: job.task, method: job.method, seed: job.seed,
                                      status: ok ? "done" : "failed", seconds: Date().timeIntervalSince(started), attempts: tries, log: logPath))
                slots.signal()
                group.leave()
            }
        }
        group.wait()
        return pool.results
    }

    /// The pool's shared state: outcomes so far and the progress line, behind one lock.
    final class Pool: @unchecked Sendable {
        private let lock = NSLock()
        private var bar: ProgressBar
        private var running = 0
        private let quiet: Bool
        private(set) var results: [Outcome] = []

        init(total: Int, quiet: Bool) {
            bar = ProgressBar(total: total, label: "sweep")
            self.quiet = quiet
        }

        func started() {
            lock.lock(); defer { lock.unlock() }
            running += 1
        }

        func finished(_ outcome: Outcome) {
            lock.lock(); defer { lock.unlock() }
            results.append(outcome)
            running -= 1
            let failed = results.filter { $0.status == "failed" }.count
            if !quiet { bar.update(results.count, status: "(running \(running), failed \(failed))") }
        }
    }

    /// Runs `mechanic` with its output in `log`; whether it exited 0.
    static func runProcess(_ executable: String, _ arguments: [String], log: String) -> Bool {
        FileManager.default.createFile(atPath: log, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: log) else { return false }
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationReason == .exit && process.terminationStatus == 0
    }

    static func printSummary(_ s: Summary) {
        print("job               model                  task           method              seed  status   seconds")
        for o in s.outcomes {
            let model = URL(fileURLWithPath: o.model).lastPathComponent
            print(o.fingerprint.padding(toLength: 17, withPad: " ", startingAt: 0) + " " + model.padding(toLength: 22, withPad: " ", startingAt: 0) + " "
                  + o.task.padding(toLength: 14, withPad: " ", startingAt: 0) + " " + (o.method ?? "-").padding(toLength: 19, withPad: " ", startingAt: 0)
                  + String(format: " %4d  ", o.seed) + o.status.padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: " %7.1f", o.seconds))
        }
        print(String(format: "%d jobs: %d run, %d already done, %d failed; %d runs merged into %@ (%.1f s)",
                     s.jobs, s.done, s.skipped, s.failed, s.mergedRuns, s.store, s.seconds))
    }
}
