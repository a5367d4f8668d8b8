import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Which split a metric is being computed on.
public enum CalibrationSplit: String, Codable, Sendable {
    case calibration
    case heldOut
}

/// One candidate head's metric with only that head calibrated, on the calibration split.
public struct HeadCalibrationScore: Codable, Sendable, Equatable {
    public var head: HeadIndex
    public var metric: Double
    /// `metric − baseline`: positive means calibrating the head helps.
    public var improvement: Double

    public init(head: HeadIndex, metric: Double, improvement: Double) {
        self.head = head
        self.metric = metric
        self.improvement = improvement
    }
}

/// What a head search found.
public struct HeadSearchResult: Codable, Sendable, Equatable {
    public var settings: CalibrationSettings
    /// The metric on the calibration split with no head calibrated.
    public var calibrationBaseline: Double
    /// Every candidate's score, in head order.
    public var scores: [HeadCalibrationScore]
    /// Heads that improved the metric by more than the minimum, in order.
    public var selectedHeads: [HeadIndex]
    /// The metric on the calibration split with every selected head calibrated.
    public var calibrationWithSelected: Double
    /// The metric on the held-out split before and after calibrating the selected heads.
    public var heldOutBefore: Double
    public var heldOutAfter: Double

    public init(settings: CalibrationSettings, calibrationBaseline: Double, scores: [HeadCalibrationScore],
                selectedHeads: [HeadIndex], calibrationWithSelected: Double, heldOutBefore: Double, heldOutAfter: Double) {
        self.settings = settings
        self.calibrationBaseline = calibrationBaseline
        self.scores = scores
        self.selectedHeads = selectedHeads
        self.calibrationWithSelected = calibrationWithSelected
        self.heldOutBefore = heldOutBefore
        self.heldOutAfter = heldOutAfter
    }
}

extension AttentionCalibration {
    /// Finds the heads whose calibration improves a task metric (ACT's head filtering).
    ///
    /// Calibrates one candidate head at a time on the calibration split and keeps those that
    /// raise the metric by more than `minimumImprovement`; then reports the metric on the
    /// held-out split without and with all kept heads calibrated. Costs one pass over the
    /// calibration split per candidate, plus three more passes.
    ///
    /// - Parameters:
    ///   - model: the model.
    ///   - calibration: batches the heads are chosen on.
    ///   - heldOut: batches the choice is checked on.
    ///   - candidates: heads to try; `nil` tries every head.
    ///   - settings: threshold and β.
    ///   - logits: which positions' logits the metric needs (`.last` for next-token tasks).
    ///   - minimumImprovement: how much a head must raise the metric to be kept.
    ///   - progress: called after each candidate with `(done, total)`.
    ///   - metric: higher is better; gets the split and the logits of each of its batches, in order
    ///     (negate a loss to search on it).
    /// - Throws: ``SinkError/emptySplit(name:)``, head range errors, or the model's and metric's errors.
    public static func searchHeads(
        model: Transformer,
        calibration: [TokenBatch],
        heldOut: [TokenBatch],
        candidates: [HeadIndex]? = nil,
        settings: CalibrationSettings = CalibrationSettings(),
        logits: LogitsSelection = .last,
        minimumImprovement: Double = 0,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
        metric: (CalibrationSplit, [Tensor]) throws -> Double
    ) throws -> HeadSearchResult {
        let config = model.config
        guard !calibration.isEmpty else { throw SinkError.emptySplit(name: "calibration") }
        guard !heldOut.isEmpty else { throw SinkError.emptySplit(name: "held-out") }
        try settings.validate()
        let heads = candidates ?? HeadIndex.all(layers: config.layers, heads: config.heads)
        for head in heads { try head.validate(layers: config.layers, heads: config.heads) }

        func evaluate(_ split: CalibrationSplit, _ batches: [TokenBatch], _ chosen: [HeadIndex]) throws -> Double {
            let outputs = try batches.map { batch in
                let interventions = try calibrationInterventions(heads: chosen, batch: batch, config: config, settings: settings)
                return try model.run(batch, logits: logits, interventions: interventions).logits ?? Tensor(shape: [0])
            }
            return try metric(split, outputs)
        }

        let baseline = try evaluate(.calibration, calibration, [])
        var scores: [HeadCalibrationScore] = []
        for (k, head) in heads.enumerated() {
            let value = try evaluate(.calibration, calibration, [head])
            scores.append(HeadCalibrationScore(head: head, metric: value, improvement: value - baseline))
            progress?(k + 1, heads.count)
        }
        let selected = scores.filter { $0.improvement > minimumImprovement }.map(\.head).sorted()
        return HeadSearchResult(
            settings: settings,
            calibrationBaseline: baseline,
            scores: scores,
            selectedHeads: selected,
            calibrationWithSelected: try evaluate(.calibration, calibration, selected),
            heldOutBefore: try evaluate(.heldOut, heldOut, []),
            heldOutAfter: try evaluate(.heldOut, heldOut, selected)
        )
    }

    /// Mean logit difference `logit[correct] − logit[incorrect]` at each row's last selected
    /// position, over all rows of all batches in order: the usual IOI-style task metric.
    ///
    /// - Parameters:
    ///   - logits: `[batch, selectedPos, vocab]` per batch (e.g. from `LogitsSelection.last`).
    ///   - correct: the right answer's id for each row, over all batches.
    ///   - incorrect: the distractor's id for each row.
    public static func meanLogitDifference(_ logits: [Tensor], correct: [Int], incorrect: [Int]) -> Double {
        precondition(correct.count == incorrect.count, "one correct and one incorrect id per row")
        var total = 0.0, row = 0
        for batch in logits {
            let (b, s, v) = (batch.shape[0], batch.shape[1], batch.shape[2])
            for r in 0..<b {
                precondition(row < correct.count, "more rows than answers")
                let base = (r * s + s - 1) * v
                total += Double(batch.storage[base + correct[row]]) - Double(batch.storage[base + incorrect[row]])
                row += 1
            }
        }
        precondition(row == correct.count, "\(correct.count) answers for \(row) rows")
        return row > 0 ? total / Double(row) : 0
    }
}
