/// ArgumentParser reads `--top-k -1` as `--top-k` without a value followed by an unknown flag
/// `-1`, and says "Missing value for '--top-k'", which hides the real problem. Mechanic has no
/// flags that look like negative numbers, so a negative number right after a `--long` option is
/// joined to it (`--top-k=-1`) before parsing, and the option's own range check can say what is
/// wrong with it. Nothing after a `--` terminator is touched.
enum NegativeNumbers {
    static func attach(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--" { return out + arguments[i...] }
            if argument.hasPrefix("--"), argument.count > 2, !argument.contains("="),
               i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
                out.append(argument + "=" + arguments[i + 1])
                i += 2
                continue
            }
            out.append(argument)
            i += 1
        }
        return out
    }

    /// `-1`, `-0.5`, `-.5`, `-1e9`, `-inf`, `-nan`: what Swift's number parsing would read.
    static func isNegativeNumber(_ text: String) -> Bool {
        guard text.hasPrefix("-"), text.count > 1 else { return false }
        let rest = text.dropFirst()
        return Double(rest) != nil || Int(rest) != nil
    }
}
