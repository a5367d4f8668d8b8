import MechanicTensor

/// One kind of text the corpus teaches, generated from a seed with its answer.
///
/// Each behaviour an interpretability paper studies (IOI, greater-than, docstring,
/// induction) is one small conforming type in its own file, plus filler text so the
/// trained model is not a pure task machine. The generator only sees this protocol,
/// so adding a family is one file and one case of `TaskFamilyKind`.
public protocol TaskFamily: Sendable {
    /// Which family this is.
    var kind: TaskFamilyKind { get }

    /// A fresh sample drawn from `rng`.
    ///
    /// - Parameter rng: the only source of randomness, so equal generator states give equal samples.
    func sample(using rng: inout SeededRandom) -> TaskSample
}

/// The registry of task families, in the order mixtures and reports list them.
public enum TaskFamilyKind: String, CaseIterable, Codable, Sendable, Comparable {
    case ioi
    case greaterThan = "greater_than"
    case docstring
    case induction
    case filler
    // Corpus v2 (appended, so v1 mixtures draw exactly the documents they always drew).
    case ioiStory = "ioi_story"
    case greaterThanStory = "greater_than_story"
    case docstringVaried = "docstring_varied"
    case narrative
    // IOI stories with more episodes per document (2–4): denser IOI signal for the same text.
    case ioiStoryDense = "ioi_story_dense"
    // Bare IOI episodes, four to eight per document: the densest IOI signal.
    case ioiDrill = "ioi_drill"

    /// The family that generates this kind's text.
    public var family: any TaskFamily {
        switch self {
        case .ioi: IOIFamily()
        case .greaterThan: GreaterThanFamily()
        case .docstring: DocstringFamily()
        case .induction: InductionFamily()
        case .filler: FillerFamily()
        case .ioiStory: IOIStoryFamily()
        case .greaterThanStory: GreaterThanStoryFamily()
        case .docstringVaried: DocstringVariedFamily()
        case .narrative: NarrativeFamily()
        case .ioiStoryDense: IOIStoryFamily.dense
        case .ioiDrill: IOIStoryFamily.drill
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A generated text split around the token a model should predict.
///
/// Training uses the whole `text`; evaluation feeds `prompt` and checks that the next
/// token is `answer`. The answer keeps its leading space when it follows a word
/// (`" Mary"`), because that is the token the model predicts.
public struct TaskSample: Sendable, Equatable, Hashable {
    /// The family that made it.
    public let kind: TaskFamilyKind
    /// The text before the answer.
    public let prompt: String
    /// The text to predict next, one token of the corpus vocabulary (`" Mary"`, `"45"`).
    public let answer: String
    /// The text after the answer, ending the document (`"."`).
    public let completion: String

    public init(kind: TaskFamilyKind, prompt: String, answer: String, completion: String) {
        self.kind = kind
        self.prompt = prompt
        self.answer = answer
        self.completion = completion
    }

    /// The full document: `prompt + answer + completion`.
    public var text: String { prompt + answer + completion }
}
