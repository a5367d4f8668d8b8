import ArgumentParser
import Foundation
import Mechanic

/// `mechanic bench training`: forward + backward + loss throughput of one training step.
struct TrainingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract: "Time a training step (forward, cross-entropy, backward) in tokens per second.",
        discussion: """
        Compare with `python3 scripts/bench_training_pytorch.py` on the same shape and threads.
        Example:
          swift run -c release mechanic bench training --layers 4 --heads 8 --d-model 256 --vocab 2048 --batch 16 --seq 64
          mechanic bench training --layers 6 --d-model 128 --mlp-width 128 --vocab 2048 --context 256 --batch 16 --seq 256 --threads 2
        """
    )

    @Option var layers = 4
    @Option var heads = 8
    @Option(name: .customLong("d-model")) var dModel = 256
    @Option var vocab = 2000
    @Option(name: .customLong("context")) var contextLength = 128
    @Flag(name: .customLong("attn-only"), help: "No MLP blocks.") var attentionOnly = false
    @Option(name: .customLong("mlp-width"),
            help: "Width of each MLP's hidden layer (GPT-2's n_inner; default 4 × d_model), e.g. 128 for mechanic-v2-drill-constant-narrow.")
    var mlpWidth: Int?
    @Option var batch = 16
    @Option var seq = 64
    @Option var seconds: Double = 5
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard layers > 0, heads > 0, dModel % heads == 0, vocab > 1, batch > 0, seq > 1, seq <= contextLength else {
            throw ValidationError("need positive sizes, --d-model divisible by --heads, and 1 < --seq ≤ --context.")
        }
        try OptionLimits.checkMLPWidth(mlpWidth, attentionOnly: attentionOnly, model: "the --attn-only model")
        let bytes = OptionLimits.trainingBytes(layers: layers, heads: heads, dModel: dModel, vocab: vocab, context: contextLength,
                                               attentionOnly: attentionOnly, mlpWidth: mlpWidth, batch: batch, seq: seq)
        guard bytes <= 16 * 1_073_741_824 else {
            throw ValidationError(String(format: "this shape needs about %.0f GB for one training step; choose one under 16 GB.", bytes / 1_073_741_824))
        }
        if !(seconds > 0 && seconds <= 3600) { throw ValidationError("--seconds must be in (0, 3600].") }
    }

    func run() throws {
        threads.apply()
        let config = TransformerConfig(layers: layers, heads: heads, dModel: dModel, contextLength: contextLength, vocabSize: vocab,
                                       innerDimension: mlpWidth, attentionOnly: attentionOnly)
        let result = try TrainingBenchmark.run(config: config, batch: batch, positions: seq, seconds: seconds)
        if json { return try printJSON(result) }
        let blocks = attentionOnly ? "attention-only" : mlpWidth.map { "with MLPs \($0) wide" } ?? "with MLPs"
        print(String(format: "%d layers × %d heads, d_model %d, vocab %d, %@: batch %d × %d → %.4f s per step, %.0f tokens/s",
                     layers, heads, dModel, vocab, blocks, batch, seq,
                     result.medianSeconds, result.tokensPerSecond))
    }
}
