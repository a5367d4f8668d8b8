import MechanicTensor

/// Corpus v2's docstring completion: 2–8 parameters, optional code before the method (imports,
/// comments, another method), methods or plain functions, and sometimes a longer summary, so the
/// next parameter must be found by matching the last `:param` line to the signature, not by a
/// fixed offset.
public struct DocstringVariedFamily: TaskFamily {
    public var kind: TaskFamilyKind { .docstringVaried }

    /// How many parameters a function takes besides `self`.
    public static let parameterCounts: ClosedRange<Int> = 2...8

    /// Lines that may precede the function.
    public static let preludes: [String] = [
        "import os\n\n", "import sys\nimport json\n\n", "# helpers\n\n", "from typing import Any\n\n",
        "def helper():\n    return None\n\n", "class Store:\n    pass\n\n",
    ]

    public init() {}

    public func sample(using rng: inout SeededRandom) -> TaskSample {
        let function = rng.element(of: Lexicon.functions)
        let count = rng.inRange(Self.parameterCounts)
        let parameters = rng.distinct(count, of: Lexicon.parameters)
        let answerIndex = rng.inRange(1...(count - 1))
        let method = rng.below(3) != 0
        var prompt = ""
        for _ in 0..<[0, 0, 1, 2][rng.below(4)] { prompt += rng.element(of: Self.preludes) }
        prompt += "def \(function.name)(" + (method ? "self, " : "") + parameters.map(\.name).joined(separator: ", ") + "):\n"
        prompt += "    \"\"\"\(function.summary)\n"
        if rng.below(3) == 0 { prompt += "\n    " + NarrativeGrammar().nameFree(using: &rng) + "\n" }
        prompt += "\n"
        for p in parameters[..<answerIndex] { prompt += "    :param \(p.name): \(p.description)\n" }
        prompt += "    :param"
        var completion = ": \(parameters[answerIndex].description)\n"
        for p in parameters[(answerIndex + 1)...] { completion += "    :param \(p.name): \(p.description)\n" }
        completion += "    \"\"\""
        return TaskSample(kind: .docstringVaried, prompt: prompt, answer: " " + parameters[answerIndex].name, completion: completion)
    }
}
