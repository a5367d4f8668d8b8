import Foundation
import Mechanic
import Yams

/// A `mechanic sweep` plan: the cross product of models, tasks, methods and seeds, each job one
/// `discover` run (or one `sinks` run per model, task and seed).
///
/// ```yaml
/// command: discover          # or sinks
/// models: [artifacts/models/mechanic-mini, artifacts/models/mechanic-attn-only-4l]
/// tasks: [ioi, induction]
/// methods: [attribution, patching]   # one job per method (discover only)
/// seeds: [0, 1]
/// options: {count: 40, patching-prompts: 8}   # passed as --count 40 --patching-prompts 8
/// ```
struct SweepPlan: Decodable {
    var command: String = "discover"
    var models: [String]
    var tasks: [String]
    var methods: [String]?
    var seeds: [UInt64] = [0]
    /// Extra options of every job, by long name without dashes; `true` is a bare flag.
    var options: [String: Scalar] = [:]

    /// An option value as YAML gives it.
    enum Scalar: Decodable, Equatable {
        case flag(Bool)
        case text(String)

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b); return }
            if let i = try? c.decode(Int.self) { self = .text(String(i)); return }
            if let d = try? c.decode(Double.self) { self = .text(String(d)); return }
            self = .text(try c.decode(String.self))
        }
    }

    enum CodingKeys: String, CodingKey { case command, models, tasks, methods, seeds, options }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        command = try c.decodeIfPresent(String.self, forKey: .command) ?? "discover"
        models = try c.decode([String].self, forKey: .models)
        tasks = try c.decode([String].self, forKey: .tasks)
        methods = try c.decodeIfPresent([String].self, forKey: .methods)
        seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? [0]
        options = try c.decodeIfPresent([String: Scalar].self, forKey: .options) ?? [:]
    }

    /// Reads and checks a plan file; every problem says what to change.
    static func load(_ path: String) throws -> SweepPlan {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw CLIError("cannot read the plan \(path)") }
        let plan: SweepPlan
        do {
            plan = try YAMLDecoder().decode(SweepPlan.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            throw CLIError("plan \(path): \(Self.describe(error))")
        } catch {
            throw CLIError("plan \(path) is not YAML: \(String(describing: error).prefix(300))")
        }
        guard ["discover", "sinks"].contains(plan.command) else { throw CLIError("plan \(path): command must be discover or sinks, not \(plan.command.prefix(80))") }
        guard !plan.models.isEmpty, !plan.tasks.isEmpty, !plan.seeds.isEmpty else { throw CLIError("plan \(path): models, tasks and seeds must each list at least one") }
        if plan.command == "sinks" && plan.methods != nil { throw CLIError("plan \(path): sinks runs have no methods; drop methods") }
        if let methods = plan.methods, methods.isEmpty { throw CLIError("plan \(path): methods is empty; list some or drop the key") }
        let reserved: Set<String> = ["model", "task", "methods", "seed", "db", "no-db", "json", "threads", "out"]
        if let bad = plan.options.keys.sorted().first(where: { reserved.contains($0) || $0.hasPrefix("-") }) {
            throw CLIError("plan \(path): option \(bad.prefix(80)) is set by the sweep itself (or starts with a dash); drop it from options")
        }
        let jobs = plan.models.count * plan.tasks.count * (plan.methods?.count ?? 1) * plan.seeds.count
        guard jobs <= 10_000 else { throw CLIError("plan \(path) makes \(jobs) jobs; split it (at most 10,000)") }
        return plan
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (at.isEmpty ? "" : "\(at): ") + context.debugDescription
        @unknown default: return "\(error)"
        }
    }

    /// One run of the sweep.
    struct Job: Codable, Equatable {
        var model: String
        var task: String
        var method: String?
        var seed: UInt64
        /// The job's identity: model checksum, command, task, method, seed and options.
        var fingerprint: String
        /// Arguments of `mechanic` (without the store and thread options).
        var arguments: [String]
    }

    /// The cross product, in plan order (models, then tasks, methods, seeds).
    func jobs(checksum: (String) -> String?) throws -> [Job] {
        let extra = options.keys.sorted().flatMap { key -> [String] in
            switch options[key]! {
            case .flag(let on): return on ? ["--\(key)"] : []
            case .text(let value): return ["--\(key)", value]
            }
        }
        var jobs: [Job] = []
        for model in models {
            guard let sum = checksum(model) else { throw CLIError("plan model \(model.prefix(200)) has no model.safetensors") }
            for task in tasks {
                for method in methods.map({ $0.map(Optional.some) }) ?? [nil] {
                    for seed in seeds {
                        var arguments = [command, "--model", model, "--task", task, "--seed", String(seed)]
                        if let method { arguments += ["--methods", method] }
                        arguments += extra
                        let identity = [sum, command, task, method ?? "", String(seed)] + extra
                        let digest = FileChecksum.sha256Hex(Data(identity.joined(separator: "\u{1F}").utf8))
                        jobs.append(Job(model: model, task: task, method: method, seed: seed, fingerprint: String(digest.prefix(16)),
                                        arguments: arguments))
                    }
                }
            }
        }
        return jobs
    }
}
