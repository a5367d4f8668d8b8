import ArgumentParser
import Foundation
import Mechanic

/// `mechanic bench`: benchmarks, not tests. Each prints figures to compare side by side with the
/// Python stack (`scripts/bench_forward.sh`, `scripts/bench_training_pytorch.py`).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: forward pass (default), training step, circuit methods.",
        subcommands: [ForwardBench.self, TrainingBench.self, CircuitsBench.self, EdgesBench.self],
        defaultSubcommand: ForwardBench.self
    )
}

/// `mechanic bench forward`: times the forward pass of a GPT-2-small-shaped model.
struct ForwardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Time the forward pass on a GPT-2-small-, Llama- or Pythia-160M-shaped model with random weights.",
        discussion: """
        Builds the chosen architecture with seeded random weights: gpt2 is GPT-2 small (12 layers, \
        12 heads, d_model 768, vocab 50257); llama is a Llama-shaped model (12 layers, d_model 768, \
        12 query and 4 key/value heads, SwiGLU of width 2048, rotary, RMSNorm, vocab 32000, untied); \
        pythia is Pythia-160M (12 layers, 12 heads, d_model 768, partial rotary, parallel blocks, \
        vocab 50304, untied). It times full-logit forward passes for each batch×sequence shape \
        (median of several runs after a warm-up) and the peak resident memory of each shape. \
        It also times a run that caches only blocks.*.attn.hook_z, to show what capture costs.

        Examples (build in release mode for meaningful numbers):
          swift run -c release mechanic bench
          swift run -c release mechanic bench --shapes 8x16,32x16 --json
          swift run -c release mechanic bench forward --architecture llama --shapes 8x16,32x16,1x1024
        (scripts/bench_pytorch.py --architecture llama times PyTorch on the same shapes.)
        """
    )

    @Option(help: "Model shape: gpt2 (GPT-2 small), llama (Llama-shaped, GQA, SwiGLU) or pythia (Pythia-160M).")
    var architecture: BenchArchitecture = .gpt2

    @Option(help: "Comma-separated batch×sequence shapes.")
    var shapes: String = "1x16,8x16,32x16,8x128,1x1024"

    @Option(help: "Seconds to spend per shape (at least 3 timed runs).")
    var seconds: Double = 4

    @Option(help: "Seed of the random weights and token ids.")
    var seed: UInt64 = 0

    @Flag(help: "Skip the hook_z capture timing.")
    var noCapture = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        _ = try parsedShapes()
        if seconds <= 0 { throw ValidationError("--seconds must be positive.") }
    }

    func parsedShapes() throws -> [(batch: Int, seq: Int)] {
        try shapes.split(separator: ",").map { item in
            let parts = item.lowercased().split(separator: "x")
            guard parts.count == 2, let b = Int(parts[0]), let s = Int(parts[1]), b > 0, s > 0, s <= 1024 else {
                throw ValidationError("--shapes takes items like 8x16 (batch × sequence, sequence ≤ 1024); got \"\(item)\".")
            }
            return (b, s)
        }
    }

    struct Row: Codable {
        var batch: Int
        var seq: Int
        var medianSeconds: Double
        var minSeconds: Double
        var runs: Int
        var peakRSSMegabytes: Double
        var hookZMedianSeconds: Double?
        var hookZCacheMegabytes: Double?
    }

    struct Report: Codable {
        var engine = "mechanic"
        var threads: Int
        var config: String
        var results: [Row]
    }

    func run() throws {
        threads.apply()
        let config = architecture.config
        if !json { printError("building \(architecture.description) weights (seed \(seed)); OpenBLAS kernels: \(BLASCore.current)…") }
        let model = try Transformer(config: config, weights: .random(config: config, seed: seed))
        var rng = SeededRandom(seed: seed &+ 1)
        var rows: [Row] = []
        for (b, s) in try parsedShapes() {
            let batch = TokenBatch(rows: (0..<b).map { _ in (0..<s).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } })
            resetPeakRSS()
            let plain = try time(seconds: seconds) { _ = try model.run(batch, logits: .all) }
            let peak = peakRSSMegabytes()
            var row = Row(batch: b, seq: s, medianSeconds: plain.median, minSeconds: plain.min, runs: plain.runs, peakRSSMegabytes: peak)
            if !noCapture {
                let spec = CaptureSpec(where: { $0.point == .z })
                var cacheBytes = 0
                let captured = try time(seconds: seconds) {
                    let out = try model.run(batch, logits: .all, capture: spec)
                    cacheBytes = out.cache.elementCount * 4
                }
                row.hookZMedianSeconds = captured.median
                row.hookZCacheMegabytes = Double(cacheBytes) / 1_048_576
            }
            rows.append(row)
            if !json {
                var line = String(format: "%4d×%-5d forward %8.4f s (min %.4f, %d runs)  peak RSS %7.1f MB", b, s, row.medianSeconds, row.minSeconds, row.runs, peak)
                if let z = row.hookZMedianSeconds { line += String(format: "  with hook_z cache %8.4f s (%.1f MB)", z, row.hookZCacheMegabytes ?? 0) }
                print(line)
            }
        }
        if json { try printJSON(Report(threads: Kernels.blasThreads, config: "\(architecture.description), random weights", results: rows)) }
    }

    /// Runs `body` once to warm up, then until `seconds` have passed (3 to 50 runs).
    func time(seconds: Double, _ body: () throws -> Void) throws -> (median: Double, min: Double, runs: Int) {
        try body()
        var samples: [Double] = []
        let start = Date()
        while samples.count < 3 || (Date().timeIntervalSince(start) < seconds && samples.count < 50) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[0], samples.count)
    }
}

/// Resets the kernel's peak-RSS counter (VmHWM) of this process, so each shape reports its own peak.
func resetPeakRSS() {
    if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
        handle.write(Data("5".utf8))
        try? handle.close()
    }
}

/// Peak resident set size of this process in MB (VmHWM from /proc/self/status).
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

/// The model shapes `bench forward` times, each with its PyTorch twin in `scripts/bench_pytorch.py`.
enum BenchArchitecture: String, ExpressibleByArgument, CaseIterable, CustomStringConvertible {
    case gpt2, llama, pythia

    var description: String {
        switch self {
        case .gpt2: return "gpt2-small shape"
        case .llama: return "llama shape (12 layers, d 768, 12 q / 4 kv heads, SwiGLU 2048, vocab 32000)"
        case .pythia: return "pythia-160m shape"
        }
    }

    var config: TransformerConfig {
        switch self {
        case .gpt2:
            return TransformerConfig()
        case .llama:
            var c = TransformerConfig(layers: 12, heads: 12, dModel: 768, contextLength: 2048, vocabSize: 32000,
                                      innerDimension: 2048, layerNormEpsilon: 1e-5, activation: .silu, bosTokenID: 1, eosTokenID: 2)
            c.modelType = "llama"
            c.kvHeads = 4
            c.norm = .rmsNorm
            c.gatedMLP = true
            (c.qkvBias, c.attentionOutBias, c.mlpBias, c.tiedEmbeddings) = (false, false, false, false)
            c.positions = .rotary(Rotary(dims: 64, theta: 10000))
            return c
        case .pythia:
            var c = TransformerConfig(layers: 12, heads: 12, dModel: 768, contextLength: 2048, vocabSize: 50304,
                                      innerDimension: 3072, activation: .geluExact, bosTokenID: 0, eosTokenID: 0)
            c.modelType = "gpt_neox"
            c.parallelBlocks = true
            c.tiedEmbeddings = false
            c.positions = .rotary(Rotary(dims: 16, theta: 10000))
            return c
        }
    }
}
