import Foundation

/// What a `Split` pre-tokenizer (or ByteLevel's built-in regex) cuts text at.
///
/// The three regexes the supported families use are recognised by their exact text and
/// run by hand-written scanners: exact by construction, linear, and using the same
/// character classes as Hugging Face's Oniguruma (`ScalarClass`). Any other regex runs
/// on `NSRegularExpression` (ICU), whose Unicode tables can differ from Oniguruma's on
/// rare characters.
enum SplitPattern: @unchecked Sendable {
    /// GPT-2's regex (also GPT-NeoX's and StarCoder's through ByteLevel).
    case gpt2
    /// Llama 3's regex (`maxDigits` 3: `\p{N}{1,3}`) or Qwen2's (`maxDigits` 1: `\p{N}`).
    case llama3(maxDigits: Int)
    /// A literal string.
    case literal([UInt32])
    /// Any other regex.
    case regex(NSRegularExpression)

    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwenRegex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The pattern for a regex source text.
    ///
    /// - Throws: `.unsupported` if `NSRegularExpression` cannot compile an unknown regex.
    static func regex(_ source: String, path: String) throws(TokenizerError) -> SplitPattern {
        switch source {
        case gpt2Regex: return .gpt2
        case llama3Regex: return .llama3(maxDigits: 3)
        case qwenRegex: return .llama3(maxDigits: 1)
        default:
            do {
                return .regex(try NSRegularExpression(pattern: source))
            } catch {
                throw .unsupported(path: path, feature: "split regex \(source.debugDescription)")
            }
        }
    }

    /// The scalar ranges of the matches in `scalars`, in order and non-overlapping.
    func matches(_ scalars: [UInt32]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        switch self {
        case .gpt2:
            let text = ScannedText(scalarValues: scalars)
            PreTokenizer.split(text, 0..<text.count) { out.append($0) }
        case .llama3(let maxDigits):
            Llama3Scanner.split(ScannedText(scalarValues: scalars), maxDigits: maxDigits) { out.append($0) }
        case .literal(let pattern):
            guard !pattern.isEmpty else { return [] }
            var i = 0
            while i + pattern.count <= scalars.count {
                if scalars[i..<(i + pattern.count)].elementsEqual(pattern) {
                    out.append(i..<(i + pattern.count))
                    i += pattern.count
                } else {
                    i += 1
                }
            }
        case .regex(let regex):
            var view = String.UnicodeScalarView()
            var utf16ToScalar: [Int: Int] = [:]
            var utf16 = 0
            for (k, v) in scalars.enumerated() {
                let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                utf16ToScalar[utf16] = k
                utf16 += scalar.utf16.count
                view.append(scalar)
            }
            utf16ToScalar[utf16] = scalars.count
            let string = String(view)
            for m in regex.matches(in: string, range: NSRange(location: 0, length: utf16)) {
                guard let lo = utf16ToScalar[m.range.location], let hi = utf16ToScalar[m.range.location + m.range.length],
                    lo < hi
                else { continue }
                out.append(lo..<hi)
            }
        }
        return out
    }
}

extension ScannedText {
    /// Scans scalar values that are already split out of a string.
    init(scalarValues: [UInt32]) {
        var view = String.UnicodeScalarView()
        for v in scalarValues { view.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
        self.init(String(view))
    }
}

/// Llama 3's pre-tokenization, a hand-written scanner equivalent to the regex
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// (Qwen2's is the same with `\p{N}` for `\p{N}{1,3}`).
///
/// Each branch below is one alternative, tried in the regex's order; every position
/// starts a match, so the pieces tile the text.
enum Llama3Scanner {
    /// Calls `body` with the scalar range of each piece of `text`, in order.
    static func split(_ text: ScannedText, maxDigits: Int, _ body: (Range<Int>) -> Void) {
        let s = text.scalars
        let cls = text.classes
        let end = s.count
        var i = 0
        func isNewline(_ v: UInt32) -> Bool { v == 0x0A || v == 0x0D }
        func run(from start: Int, of kind: ScalarClass) -> Int {
            var j = start
            while j < end, cls[j] == kind { j += 1 }
            return j
        }
        while i < end {
            let c = s[i]
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if c == 0x27, i + 1 < end {
                let n = contractionLength(s, i, end)
                if n > 0 {
                    body(i..<(i + n))
                    i += n
                    continue
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if cls[i] == .letter {
                let j = run(from: i + 1, of: .letter)
                body(i..<j)
                i = j
                continue
            }
            if !isNewline(c), cls[i] != .number, i + 1 < end, cls[i + 1] == .letter {
                let j = run(from: i + 2, of: .letter)
                body(i..<j)
                i = j
                continue
            }
            // \p{N}{1,maxDigits}
            if cls[i] == .number {
                var j = i + 1
                while j < end, j - i < maxDigits, cls[j] == .number { j += 1 }
                body(i..<j)
                i = j
                continue
            }
            //  ?[^\s\p{L}\p{N}]+[\r\n]*
            let start = c == 0x20 && i + 1 < end && cls[i + 1] == .other ? i + 1 : i
            if cls[start] == .other {
                var j = run(from: start + 1, of: .other)
                while j < end, isNewline(s[j]) { j += 1 }
                body(i..<j)
                i = j
                continue
            }
            // Whitespace from here on.
            var j = run(from: i + 1, of: .whitespace)
            // \s*[\r\n]+ : up to the run's last newline.
            if let last = (i..<j).last(where: { isNewline(s[$0]) }) {
                body(i..<(last + 1))
                i = last + 1
                continue
            }
            // \s+(?!\S)|\s+
            if j < end, j - i > 1 { j -= 1 }
            body(i..<j)
            i = j
        }
    }

    /// Length (2 or 3) of the case-insensitive contraction at the apostrophe `s[i]`, or 0.
    ///
    /// Oniguruma folds case by Unicode rules, so `ſ` (long s, U+017F) matches `s`.
    private static func contractionLength(_ s: [UInt32], _ i: Int, _ end: Int) -> Int {
        func lower(_ v: UInt32) -> UInt32 { (0x41...0x5A).contains(v) ? v + 0x20 : (v == 0x17F ? 0x73 : v) }
        let d = lower(s[i + 1])
        let e = i + 2 < end ? lower(s[i + 2]) : 0
        switch d {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        case 0x72, 0x76: return e == 0x65 ? 3 : 0  // re ve
        case 0x6C: return e == 0x6C ? 3 : 0  // ll
        default: return 0
        }
    }
}
