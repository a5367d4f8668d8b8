import MechanicSafetensors

/// Fuzzes the safetensors reader: an 8-byte header length, the JSON header (dtypes, shapes,
/// offsets, `__metadata__`) and the data it points into.
///
/// The input is the whole file. `SafetensorsFile` opens only paths (it memory-maps them), so each
/// execution writes the bytes to a scratch file on `/dev/shm`. Every tensor the header accepts is
/// then loaded both ways (`tensor` and `int64Array`), so an offset or size the validation let
/// through that reads outside the mapping shows up as an AddressSanitizer report or a crash.
///
/// Traps on a finding; returns on any correct answer (a thrown error included).
public func checkSafetensors(_ bytes: [UInt8]) {
    let url = Scratch.write(bytes, to: "model.safetensors")
    guard let file = try? SafetensorsFile(url: url) else { return }
    _ = file.metadata.count
    for name in file.names {
        guard let info = file.info(name), file.contains(name) else {
            fatalError("\(name) is listed in names but has no info")
        }
        if let tensor = try? file.tensor(name) {
            precondition(tensor.shape == info.shape, "tensor \(name) has shape \(tensor.shape), header says \(info.shape)")
        }
        if let values = try? file.int64Array(name) {
            precondition(values.count == info.elementCount, "int64Array(\(name)) has \(values.count) values, header says \(info.elementCount)")
        }
    }
    _ = try? file.tensor("\u{0}missing")
}

