import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// The memory an edge method needs, checked before it starts (``MemoryBudget``): the dominant
/// buffers are `[senders or receivers, rows, dModel]` floats, `rows = prompts × positions`, which
/// for a large model and a large batch reach tens of gigabytes.
enum EdgeMemory {
    /// Refuses `method` on `batch` when `blocks` buffers of `[count, rows, dModel]` floats (each
    /// `count` given) and `extraBytes` more do not fit.
    static func check(_ method: String, model: Transformer, batch: TokenBatch, blocks counts: [Int], extraBytes: UInt64 = 0) throws {
        let rows = batch.batch * batch.positions, d = model.config.dModel
        let bytes = MemoryBudget.sum(extraBytes, counts.map { MemoryBudget.floats($0, rows, d) })
        try MemoryBudget.check(bytes, for: "\(method) on \(batch.batch) prompts × \(batch.positions) positions",
                               advice: "use fewer prompts (--patching-prompts) or shorter ones")
    }
}
