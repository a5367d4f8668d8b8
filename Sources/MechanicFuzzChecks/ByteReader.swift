/// Structured values drawn from fuzzer bytes (like LLVM's FuzzedDataProvider): once the bytes run
/// out every read returns zero, the empty string or `nil`, so any input builds some value.
public struct ByteReader {
    private var bytes: ArraySlice<UInt8>

    public init(_ bytes: some Collection<UInt8>) {
        self.bytes = ArraySlice(bytes)
    }

    public var isEmpty: Bool { bytes.isEmpty }

    public mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    public mutating func bool() -> Bool {
        byte() & 1 == 1
    }

    /// A number in `range`, from one byte.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(byte()) % (range.upperBound - range.lowerBound + 1)
    }

    /// Any Float, NaN and infinities included, from four bytes.
    public mutating func float() -> Float {
        var bits: UInt32 = 0
        for _ in 0..<4 { bits = bits << 8 | UInt32(byte()) }
        return Float(bitPattern: bits)
    }

    /// A string of up to `maxBytes` bytes (a length byte, then the bytes; invalid UTF-8 repaired).
    public mutating func string(maxBytes: Int = 64) -> String {
        let count = min(Int(byte()) % (maxBytes + 1), bytes.count)
        let text = String(decoding: bytes.prefix(count), as: UTF8.self)
        bytes = bytes.dropFirst(count)
        return text
    }

    /// `value()` when the next byte is odd, else `nil`.
    public mutating func optional<T>(_ value: (inout ByteReader) -> T) -> T? {
        bool() ? value(&self) : nil
    }
}
