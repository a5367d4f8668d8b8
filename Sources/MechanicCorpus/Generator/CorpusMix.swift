/// How often each task family appears in the corpus, as relative weights.
///
/// Weights need not sum to one; a family's share of documents is its weight over the
/// total. Validated once at construction so the generator itself cannot fail.
public struct CorpusMix: Sendable, Equatable, Codable {
    /// Relative weight per family; missing families have weight 0.
    public let weights: [TaskFamilyKind: Double]

    /// A mixture from relative weights.
    ///
    /// - Parameter weights: finite, non-negative weights, at least one positive.
    /// - Throws: `CorpusError.invalidWeight` or `.emptyMix`.
    public init(_ weights: [TaskFamilyKind: Double]) throws(CorpusError) {
        for kind in TaskFamilyKind.allCases {
            let w = weights[kind] ?? 0
            guard w.isFinite, w >= 0 else { throw .invalidWeight(kind: kind, weight: w) }
        }
        guard weights.values.contains(where: { $0 > 0 }) else { throw .emptyMix }
        self.weights = weights.filter { $0.value > 0 }
    }

    /// The default mixture: mostly the four tasks, a fifth of plain filler.
    ///
    /// IOI 30 %, greater-than 20 %, docstring 15 %, induction 15 %, filler 20 %. IOI gets
    /// the most because its circuit (several head classes) needs the most data.
    public static let standard = try! CorpusMix([
        .ioi: 0.30, .greaterThan: 0.20, .docstring: 0.15, .induction: 0.15, .filler: 0.20,
    ])

    /// Weighted towards IOI and induction, the behaviours that need the deepest circuits
    /// (duplicate detection, inhibition, copying), so a small model learns them in a short run.
    public static let circuitHeavy = try! CorpusMix([
        .ioi: 0.45, .greaterThan: 0.10, .docstring: 0.10, .induction: 0.20, .filler: 0.15,
    ])

    /// Corpus v2 (reference models v2): IOI inside narratives 30 %, narrative text 40 %,
    /// greater-than and docstring with varied positions 15 % each. Repeated token spans for
    /// induction are added at the token level (`RepeatDocuments`), not drawn from this mix.
    public static let version2 = try! CorpusMix([
        .ioiStory: 0.30, .narrative: 0.40, .greaterThanStory: 0.15, .docstringVaried: 0.15,
    ])

    /// Corpus v2 weighted towards IOI: dense IOI stories (two to four episodes per document) 55 %,
    /// narrative text 30 % (the low end the issue allows), greater-than and docstring 7.5 % each.
    /// About 3.3 times the IOI answers of ``version2`` per document: the v2 models met too few
    /// to learn IOI (IO top-1 among names 0.34–0.46, IO below S on average).
    public static let version2IOI = try! CorpusMix([
        .ioiStoryDense: 0.55, .narrative: 0.30, .greaterThanStory: 0.075, .docstringVaried: 0.075,
    ])

    /// ``version2IOI`` with a drill: bare IOI episodes (``IOIStoryFamily/drill``) 30 %, dense IOI
    /// stories 25 %, narrative text 30 %, greater-than and docstring 7.5 % each. Tripling the
    /// IOI answers (``version2IOI``) left IO and S at even odds, so this packs them tighter still.
    public static let version2Drill = try! CorpusMix([
        .ioiDrill: 0.30, .ioiStoryDense: 0.25, .narrative: 0.30, .greaterThanStory: 0.075, .docstringVaried: 0.075,
    ])

    /// IOI only: drill and dense stories, half each (the IOI probe's data).
    public static let ioiOnly = try! CorpusMix([.ioiDrill: 0.5, .ioiStoryDense: 0.5])

    /// Only one family, for task-specific corpora and tests.
    public static func only(_ kind: TaskFamilyKind) -> CorpusMix {
        try! CorpusMix([kind: 1])
    }

    /// The relative weight of `kind` (0 if absent).
    public func weight(of kind: TaskFamilyKind) -> Double {
        weights[kind] ?? 0
    }

    /// The expected share of documents from `kind`, in [0, 1].
    public func probability(of kind: TaskFamilyKind) -> Double {
        weight(of: kind) / TaskFamilyKind.allCases.reduce(0) { $0 + weight(of: $1) }
    }
}

extension CorpusMix {
    /// Decodes `{"ioi": 0.3, …}` and validates it like `init(_:)`.
    public init(from decoder: any Decoder) throws {
        let weights = try decoder.singleValueContainer().decode([TaskFamilyKind: Double].self)
        try self.init(weights)
    }

    /// Encodes `{"ioi": 0.3, …}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(weights)
    }
}

/// Family names are JSON object keys (`"greater_than"`), not array elements.
extension TaskFamilyKind: CodingKeyRepresentable {}
