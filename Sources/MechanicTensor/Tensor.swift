import Foundation

/// A dense, row-major Float32 tensor with value semantics.
///
/// Storage is a Swift array, so copies are cheap until written (copy-on-write).
/// Shapes are stated everywhere in one vocabulary: `[batch, pos, dModel]`,
/// `[batch, head, queryPos, keyPos]` and so on.
public struct Tensor: Equatable, Sendable {
    /// The size of each axis, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `storage.count == shape.product`.
    public var storage: [Float]

    /// Wraps existing storage. Precondition: `storage.count` equals the product of `shape`.
    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative axis in shape \(shape)")
        precondition(storage.count == Tensor.count(of: shape),
                     "storage of \(storage.count) elements does not fit shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of the given shape filled with `value` (zero by default).
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative axis in shape \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: value, count: Tensor.count(of: shape))
    }

    /// A tensor whose storage is written by `body` (uninitialised memory, every element must be set).
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let n = Tensor.count(of: shape)
        self.shape = shape
        self.storage = try [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            try body(buffer)
            initialized = n
        }
    }

    /// A scalar.
    public init(scalar: Float) {
        self.init(shape: [], storage: [scalar])
    }

    /// Number of elements a shape holds.
    @inlinable
    public static func count(of shape: [Int]) -> Int {
        shape.reduce(1, *)
    }

    /// Number of elements.
    @inlinable
    public var count: Int { storage.count }

    /// Number of axes.
    @inlinable
    public var rank: Int { shape.count }

    /// Row-major strides of the shape, in elements.
    public var strides: [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The same elements under another shape with equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.count(of: newShape) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    /// The slices `self[i]` along the first axis for each of `indices`, in that order (repeats allowed).
    public func rows(_ indices: [Int]) -> Tensor {
        precondition(!shape.isEmpty, "a scalar has no rows")
        let width = shape.dropFirst().reduce(1, *)
        var out = [Float]()
        out.reserveCapacity(indices.count * width)
        for i in indices {
            precondition(i >= 0 && i < shape[0], "row \(i) is outside 0..<\(shape[0])")
            out += storage[(i * width)..<((i + 1) * width)]
        }
        return Tensor(shape: [indices.count] + shape.dropFirst(), storage: out)
    }

    /// Changes the shape in place; the element count must not change.
    public mutating func reshape(_ newShape: [Int]) {
        precondition(Tensor.count(of: newShape) == count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    /// Element at a full multi-index (slow; for tests and small reads).
    public subscript(_ index: Int...) -> Float {
        get { storage[offset(of: index)] }
        set { storage[offset(of: index)] = newValue }
    }

    /// Flat offset of a multi-index.
    public func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match rank \(shape.count)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(index) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }

    /// Largest absolute element-wise difference to another tensor of the same shape.
    ///
    /// Infinities of the same sign compare equal (masked attention scores are `-inf`);
    /// a NaN on either side gives `.infinity`.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shape \(shape) differs from \(other.shape)")
        var worst: Float = 0
        for i in 0..<count {
            let a = storage[i], b = other.storage[i]
            if a.isNaN || b.isNaN { return .infinity }
            if a == b { continue }
            worst = max(worst, abs(a - b))
        }
        return worst
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = storage.prefix(6).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 6 ? ", …" : "")])"
    }
}
