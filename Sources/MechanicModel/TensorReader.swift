import MechanicSafetensors
import MechanicTensor

/// Reads a family's ``TensorSource`` recipes from a checkpoint's safetensors files.
///
/// Names are looked up with each of the family's prefixes in turn, in every shard. Every tensor
/// is checked for NaN and infinity as it is read, unless `allowNonFinite`.
struct TensorReader: CustomStringConvertible {
    let files: [SafetensorsFile]
    let prefixes: [String]
    var allowNonFinite = false

    var description: String { files.map(\.path).joined(separator: ", ") }

    /// The parameter built from its source, checked to have `shape` (Mechanic's layout).
    ///
    /// A stored tensor of the wrong shape is reported under its checkpoint name and file, with
    /// the shape the config implies in the checkpoint's own layout.
    func read(_ source: TensorSource, shape: [Int]) throws -> Tensor {
        switch source {
        case .tensor(let name):
            return try load(name, shape: shape)
        case .plusOne(let name):
            var t = try load(name, shape: shape)
            for i in t.storage.indices { t.storage[i] += 1 }
            return t
        case .transposed(let name):
            guard shape.count == 2 else { preconditionFailure("only matrices are transposed") }
            return try load(name, shape: [shape[1], shape[0]]).transposed2D()
        case .joined(let parts):
            // Parts share every axis but the last; split the last one by what each part stores.
            var tensors: [Tensor] = []
            for part in parts {
                let stored = try storedShape(part)
                let partShape = Array(shape.dropLast()) + [part.isTransposed ? stored.first ?? 0 : stored.last ?? 0]
                tensors.append(try read(part, shape: partShape))
            }
            let joined = join(tensors)
            guard joined.shape == shape else {
                throw ModelError.wrongShape(file: description, tensor: source.names.joined(separator: " + "), expected: shape, found: joined.shape)
            }
            return joined
        case .neoxQKV(let name, let heads, let dHead):
            guard shape.last == 3 * heads * dHead else { preconditionFailure("NeoX q/k/v shape \(shape)") }
            // Stored as nn.Linear [3·heads·dHead, dModel] (or the bias [3·heads·dHead]).
            let stored = shape.count == 2 ? [shape[1], shape[0]] : shape
            let t = try load(name, shape: stored)
            let reordered = t.neoxRowsToBlocks(heads: heads, dHead: dHead)  // rows: all q, all k, all v
            return t.rank == 2 ? reordered.transposed2D() : reordered
        }
    }

    /// The stored shape of a source's (first) tensor.
    private func storedShape(_ source: TensorSource) throws -> [Int] {
        let name = source.names[0]
        guard let (file, key) = locate(name) else { throw ModelError.missingTensor(file: description, tensor: (prefixes.first ?? "") + name) }
        return file.info(key)!.shape
    }

    /// The full key a name is read from (under the first prefix that has it), or `nil`.
    func key(of name: String) -> String? { locate(name)?.1 }

    /// The file and full key of a name under the first prefix that has it.
    private func locate(_ name: String) -> (SafetensorsFile, String)? {
        for prefix in prefixes {
            let key = prefix + name
            if let file = files.first(where: { $0.contains(key) }) { return (file, key) }
        }
        return nil
    }

    /// A stored tensor, shape-checked before it is read, upcast to F32 and checked finite.
    private func load(_ name: String, shape: [Int]) throws -> Tensor {
        guard let (file, key) = locate(name) else {
            throw ModelError.missingTensor(file: description, tensor: (prefixes.first ?? "") + name)
        }
        let found = file.info(key)!.shape
        guard found == shape else { throw ModelError.wrongShape(file: file.path, tensor: key, expected: shape, found: found) }
        let tensor = try file.tensor(key)
        if !allowNonFinite && tensor.storage.contains(where: { !$0.isFinite }) {
            throw ModelError.nonFiniteWeights(file: file.path, tensor: key)
        }
        return tensor
    }

    /// Tensors side by side along their last axis (`[in, a] + [in, b] → [in, a + b]`, or 1-D);
    /// every part has the same leading axes (the callers read them at shapes that do).
    private func join(_ parts: [Tensor]) -> Tensor {
        let lead = Array(parts[0].shape.dropLast())
        let rows = lead.reduce(1, *)
        let widths = parts.map { $0.shape.last ?? 0 }
        let total = widths.reduce(0, +)
        return Tensor(shape: lead + [total]) { out in
            var column = 0
            for (t, width) in zip(parts, widths) {
                t.storage.withUnsafeBufferPointer { src in
                    for r in 0..<rows {
                        (out.baseAddress! + r * total + column).update(from: src.baseAddress! + r * width, count: width)
                    }
                }
                column += width
            }
        }
    }
}

extension Tensor {
    /// `[rows, cols] → [cols, rows]`.
    func transposed2D() -> Tensor {
        let (r, c) = (shape[0], shape[1])
        return Tensor(shape: [c, r]) { out in
            storage.withUnsafeBufferPointer { src in
                for i in 0..<r { for j in 0..<c { out[j * r + i] = src[i * c + j] } }
            }
        }
    }

    /// GPT-NeoX's rows `[head, (q|k|v), dHead]` reordered to `[(q|k|v), head, dHead]` (rank 1 or 2).
    func neoxRowsToBlocks(heads: Int, dHead: Int) -> Tensor {
        let width = rank == 2 ? shape[1] : 1
        return Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { src in
                for h in 0..<heads {
                    for part in 0..<3 {
                        let from = (h * 3 + part) * dHead * width
                        let to = (part * heads + h) * dHead * width
                        (out.baseAddress! + to).update(from: src.baseAddress! + from, count: dHead * width)
                    }
                }
            }
        }
    }
}
