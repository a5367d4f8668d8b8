import MechanicTensor
import MechanicTokenizer

/// Ready-made objectives for ``MechanicModel/Transformer/gradients(_:activations:interventions:objective:)``:
/// a scalar of the logits and its gradient.
public enum LogitObjective {
    /// `Σ_rows logits[r, last_r, correct[r]] − logits[r, last_r, wrong[r]]` at each row's last real
    /// token: the logit difference of indirect-object identification and most circuit studies.
    ///
    /// - Parameters:
    ///   - batch: the batch the logits come from (for each row's last real position).
    ///   - correct, wrong: one token id per row.
    public static func logitDifference(_ batch: TokenBatch, correct: [Int], wrong: [Int]) -> (Tensor) throws -> (Float, Tensor) {
        precondition(correct.count == batch.batch && wrong.count == batch.batch, "one correct and one wrong token per row")
        return { logits in
            let (t, v) = (logits.shape[1], logits.shape[2])
            var gradient = Tensor(shape: logits.shape)                       // [batch, pos, vocab]
            var value = 0.0
            for r in 0..<batch.batch {
                let row = (r * t + batch.lengths[r] - 1) * v
                value += Double(logits.storage[row + correct[r]]) - Double(logits.storage[row + wrong[r]])
                gradient.storage[row + correct[r]] += 1
                gradient.storage[row + wrong[r]] -= 1
            }
            return (Float(value), gradient)
        }
    }
}
