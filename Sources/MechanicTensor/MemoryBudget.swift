import Foundation

/// How much memory work may take, checked before it starts: work that cannot fit is refused with
/// its estimate and what to change, instead of being killed half-way by the kernel's OOM killer.
///
/// Available memory is `MemAvailable` of `/proc/meminfo`, lowered by a cgroup v2 limit
/// (`memory.max − memory.current`) and by `$MECHANIC_MEMORY_LIMIT` (bytes, or with a K/M/G/T
/// suffix: `512M`, `2G`), which also lets a user keep room for other work.
public enum MemoryBudget {
    /// The environment variable that caps what Mechanic plans to use.
    public static let limitVariable = "MECHANIC_MEMORY_LIMIT"

    /// Work that does not fit.
    public struct Shortfall: Error, CustomStringConvertible, Equatable {
        public var what: String
        public var needed: UInt64
        public var available: UInt64
        public var advice: String

        public var description: String {
            "\(what) needs about \(MemoryBudget.format(needed)) of memory, and \(MemoryBudget.format(available)) is available"
                + " (MemAvailable, the cgroup limit and $\(MemoryBudget.limitVariable)); \(advice)"
        }
    }

    /// Bytes that may still be allocated, or `nil` where nothing says (no `/proc`, no limit set).
    public static func available(environment: [String: String] = ProcessInfo.processInfo.environment) -> UInt64? {
        var limits: [UInt64] = []
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kb = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) }) {
            limits.append(kb * 1024)
        }
        if let max = (try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8)).flatMap({ UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
           let current = (try? String(contentsOfFile: "/sys/fs/cgroup/memory.current", encoding: .utf8)).flatMap({ UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            limits.append(max > current ? max - current : 0)
        }
        if let text = environment[limitVariable], let cap = parse(text) { limits.append(cap) }
        return limits.min()
    }

    /// `1234`, `512K`, `512M`, `2G`, `1T` (powers of 1024; a trailing `B` or `iB` allowed).
    public static func parse(_ text: String) -> UInt64? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where s.hasSuffix(suffix) && s.count > suffix.count { s.removeLast(suffix.count); break }
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var scale: UInt64 = 1
        if let last = s.last, let unit = units[last] { scale = unit; s.removeLast() }
        guard let value = Double(s), value.isFinite, value >= 0, value * Double(scale) < 1.8e19 else { return nil }
        return UInt64(value * Double(scale))
    }

    /// `12.3 MB`, `1.5 GB` (powers of 1024).
    public static func format(_ bytes: UInt64) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }

    /// Throws ``Shortfall`` when `bytes` exceed what is available (nothing is known: no check).
    ///
    /// - Parameters:
    ///   - what: the work, as the message starts ("the weights of llama-8b as F32").
    ///   - advice: what to change ("use fewer --patching-prompts").
    public static func check(_ bytes: UInt64, for what: String, advice: String,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let available = available(environment: environment), bytes > available else { return }
        throw Shortfall(what: what, needed: bytes, available: available, advice: advice)
    }

    /// A sum of byte counts, saturating instead of overflowing.
    public static func sum(_ first: UInt64, _ rest: UInt64...) -> UInt64 { sum(first, rest) }

    public static func sum(_ first: UInt64, _ rest: [UInt64]) -> UInt64 {
        rest.reduce(first) { total, n in
            let (s, overflow) = total.addingReportingOverflow(n)
            return overflow ? .max : s
        }
    }

    /// The bytes of a `[dimensions…]` tensor of 4-byte floats, saturating instead of overflowing.
    public static func floats(_ dimensions: Int...) -> UInt64 {
        dimensions.reduce(UInt64(4)) { total, n in
            let (product, overflow) = total.multipliedReportingOverflow(by: UInt64(max(0, n)))
            return overflow ? .max : product
        }
    }
}
