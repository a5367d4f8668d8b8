import Foundation

/// Everything the HTML report of one stored run shows, as plain values.
///
/// The page embeds it as one JSON blob (sorted keys, fixed float formatting) and its script draws
/// the tables, curves, heat maps and the attention explorer from it, so the same run always gives
/// the same file. Heads are named `a{layer}.{head}` throughout; per-head arrays are indexed
/// `layer * heads + head`. Figures rendered in Swift (the Graphviz circuit graphs, the sink heat
/// maps) travel in ``ReportFigures`` and are placed in the page as inline SVG, not in the blob.
public struct ReportData: Codable, Equatable, Sendable {
    /// The stored run: what made it and how it ended.
    public struct Run: Codable, Equatable, Sendable {
        public var id: Int64
        public var command: String
        public var arguments: [String]
        public var status: String
        public var version: String
        public var seed: UInt64?
        public var modelPath: String?

        public init(id: Int64, command: String, arguments: [String], status: String, version: String, seed: UInt64?, modelPath: String?) {
            self.id = id
            self.command = command
            self.arguments = arguments
            self.status = status
            self.version = version
            self.seed = seed
            self.modelPath = modelPath
        }
    }

    /// The model's shape, enough to lay out layer × head grids.
    public struct Model: Codable, Equatable, Sendable {
        public var name: String
        public var layers: Int
        public var heads: Int
        public var hasMLPs: Bool

        public init(name: String, layers: Int, heads: Int, hasMLPs: Bool) {
            self.name = name
            self.layers = layers
            self.heads = heads
            self.hasMLPs = hasMLPs
        }
    }

    /// One recorded prompt, as text, with its answer and counterfactual when it has them.
    public struct Prompt: Codable, Equatable, Sendable {
        public var text: String
        public var answer: String?
        public var corrupted: String?

        public init(text: String, answer: String? = nil, corrupted: String? = nil) {
            self.text = text
            self.answer = answer
            self.corrupted = corrupted
        }
    }

    /// The run's task: its size, metric, ground truth and the first prompts.
    public struct TaskSummary: Codable, Equatable, Sendable {
        public var name: String
        public var metric: String
        public var positives: Int
        public var negatives: Int
        public var droppedPositives: Int
        /// Ground-truth heads, sorted; empty without one.
        public var groundTruth: [String]
        /// The first positive prompts (at most ``ReportData/promptLimit``).
        public var prompts: [Prompt]

        public init(name: String, metric: String, positives: Int, negatives: Int, droppedPositives: Int, groundTruth: [String], prompts: [Prompt]) {
            self.name = name
            self.metric = metric
            self.positives = positives
            self.negatives = negatives
            self.droppedPositives = droppedPositives
            self.groundTruth = groundTruth
            self.prompts = prompts
        }
    }

    /// One head-level method's result: its evaluation and every head's score.
    public struct Method: Codable, Equatable, Sendable {
        public var name: String
        public var auc: Double?
        /// Mean and sd of the AUC under shuffled labels (SAE methods with a control).
        public var shuffledAUC: [Double]?
        public var precision: Double?
        public var recall: Double?
        public var f1: Double?
        /// Share of the full model's metric the top-|ground truth| heads keep alone (mean ablation).
        public var faithfulness: Double?
        public var seconds: Double
        /// Score per head, `layer * heads + head` (nil for a head the method did not score).
        public var scores: [Double?]
        /// ROC curve against the ground truth as `[fpr, tpr]` points from (0, 0) to (1, 1).
        public var roc: [[Double]]
        /// Its circuit: the top-|ground truth| heads (10 without one), best first.
        public var circuit: [String]

        public init(name: String, auc: Double?, shuffledAUC: [Double]?, precision: Double?, recall: Double?, f1: Double?,
                    faithfulness: Double?, seconds: Double, scores: [Double?], roc: [[Double]], circuit: [String]) {
            self.name = name
            self.auc = auc
            self.shuffledAUC = shuffledAUC
            self.precision = precision
            self.recall = recall
            self.f1 = f1
            self.faithfulness = faithfulness
            self.seconds = seconds
            self.scores = scores
            self.roc = roc
            self.circuit = circuit
        }
    }

    /// What is known about one head beyond its scores: a role and head-type scores.
    public struct HeadInfo: Codable, Equatable, Sendable {
        public var role: String?
        /// Previous-token, duplicate-token and induction scores from the model card, by name.
        public var types: [String: Double]

        public init(role: String?, types: [String: Double]) {
            self.role = role
            self.types = types
        }
    }

    /// One prompt of the attention explorer: its tokens and every head's pattern.
    public struct ExplorerPrompt: Codable, Equatable, Sendable {
        public var tokens: [String]
        /// Per head (`layer * heads + head`), the lower triangle of its `[queryPos, keyPos]`
        /// pattern row by row (query 0: one value, query 1: two…), in thousandths.
        public var patterns: [[Int]]

        public init(tokens: [String], patterns: [[Int]]) {
            self.tokens = tokens
            self.patterns = patterns
        }
    }

    /// One strong attention link of a head on an explorer prompt.
    public struct AttentionLink: Codable, Equatable, Sendable {
        public var prompt: Int
        public var from: Int
        public var to: Int
        public var weight: Double

        public init(prompt: Int, from: Int, to: Int, weight: Double) {
            self.prompt = prompt
            self.from = from
            self.to = to
            self.weight = weight
        }
    }

    /// One edge-level method: runtime, node AUC and its faithfulness curve.
    public struct EdgeMethod: Codable, Equatable, Sendable {
        public var name: String
        public var seconds: Double
        public var nodeAUC: Double?
        public var cpr: Double?
        public var cmd: Double?
        /// `[fraction, edges, faithfulness]` per point.
        public var curve: [[Double]]

        public init(name: String, seconds: Double, nodeAUC: Double?, cpr: Double?, cmd: Double?, curve: [[Double]]) {
            self.name = name
            self.seconds = seconds
            self.nodeAUC = nodeAUC
            self.cpr = cpr
            self.cmd = cmd
            self.curve = curve
        }
    }

    /// The edge-level part of a run (`discover --level edges`).
    public struct Edges: Codable, Equatable, Sendable {
        public var ablation: String
        public var prompts: Int
        public var edgeCount: Int
        public var methods: [EdgeMethod]

        public init(ablation: String, prompts: Int, edgeCount: Int, methods: [EdgeMethod]) {
            self.ablation = ablation
            self.prompts = prompts
            self.edgeCount = edgeCount
            self.methods = methods
        }
    }

    /// One head's sink statistics under one BOS setting.
    public struct SinkHead: Codable, Equatable, Sendable {
        public var head: String
        public var bos: Bool
        public var firstTokenMass: Double
        public var firstTokenSinkRate: Double
        public var entropy: Double
        public var hiddenSinks: Int

        public init(head: String, bos: Bool, firstTokenMass: Double, firstTokenSinkRate: Double, entropy: Double, hiddenSinks: Int) {
            self.head = head
            self.bos = bos
            self.firstTokenMass = firstTokenMass
            self.firstTokenSinkRate = firstTokenSinkRate
            self.entropy = entropy
            self.hiddenSinks = hiddenSinks
        }
    }

    /// The sink analysis shown: stored with the run, or computed for the report.
    public struct Sinks: Codable, Equatable, Sendable {
        /// "stored" (recorded by `mechanic sinks`) or "computed" (on the run's prompts, for this report).
        public var source: String
        public var prompts: Int
        public var minimumObservers: Int
        /// How many times its uniform-attention score a hidden sink's α must be (0: no baseline).
        public var minimumLift: Double
        public var heads: [SinkHead]
        /// Tokens most often found as hidden sinks: `[token, events, occurrences]`.
        public var tokens: [[String]]

        public init(source: String, prompts: Int, minimumObservers: Int, minimumLift: Double = 0, heads: [SinkHead], tokens: [[String]]) {
            self.source = source
            self.prompts = prompts
            self.minimumObservers = minimumObservers
            self.minimumLift = minimumLift
            self.heads = heads
            self.tokens = tokens
        }
    }

    public var run: Run
    public var model: Model?
    public var task: TaskSummary?
    public var methods: [Method]
    /// Whether ``methods`` holds head scores derived from an edge-level run's edge scores
    /// (``ReportData/headLevel(_:positives:)``) rather than head-level methods.
    public var headScoresFromEdges: Bool
    /// Roles and head-type scores by head name.
    public var heads: [String: HeadInfo]
    public var explorer: [ExplorerPrompt]
    /// Each head's strongest links over the explorer prompts (query position ≥ 1), by head name.
    public var topAttention: [String: [AttentionLink]]
    public var edges: Edges?
    public var sinks: Sinks?
    /// What the report could not show, and why (a missing model folder, a changed checkpoint…).
    public var notes: [String]

    /// Prompts listed in the task section.
    public static let promptLimit = 20

    public init(run: Run, model: Model? = nil, task: TaskSummary? = nil, methods: [Method] = [], headScoresFromEdges: Bool = false,
                heads: [String: HeadInfo] = [:],
                explorer: [ExplorerPrompt] = [], topAttention: [String: [AttentionLink]] = [:], edges: Edges? = nil,
                sinks: Sinks? = nil, notes: [String] = []) {
        self.run = run
        self.model = model
        self.task = task
        self.methods = methods
        self.headScoresFromEdges = headScoresFromEdges
        self.heads = heads
        self.explorer = explorer
        self.topAttention = topAttention
        self.edges = edges
        self.sinks = sinks
        self.notes = notes
    }
}

/// The report's figures rendered in Swift, placed in the page as inline SVG.
public struct ReportFigures: Equatable, Sendable {
    /// One Graphviz circuit graph per method name (head-level), or for the edge-level circuit.
    public var graphs: [(method: String, svg: String)]
    /// Sink heat maps (first-token mass, hidden sinks), with their titles.
    public var sinks: [(title: String, svg: String)]

    public init(graphs: [(method: String, svg: String)] = [], sinks: [(title: String, svg: String)] = []) {
        self.graphs = graphs
        self.sinks = sinks
    }

    public static func == (a: ReportFigures, b: ReportFigures) -> Bool {
        a.graphs.map(\.method) == b.graphs.map(\.method) && a.graphs.map(\.svg) == b.graphs.map(\.svg)
            && a.sinks.map(\.title) == b.sinks.map(\.title) && a.sinks.map(\.svg) == b.sinks.map(\.svg)
    }
}
