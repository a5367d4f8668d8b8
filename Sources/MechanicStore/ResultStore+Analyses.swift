import Foundation
import GRDB
import MechanicSAE
import MechanicSinks

extension ResultStore {
    /// Records a sparse autoencoder trained in a run, in one transaction, and returns its row id.
    /// Recording the same `name` again in the run replaces it.
    ///
    /// - Parameters:
    ///   - sae: its configuration, stored as JSON.
    ///   - name: what it was trained on (`discover`, a hook name…), unique within the run.
    ///   - trainingPrompts: prompts whose activations it was trained on.
    ///   - finalLoss: the loss of its last epoch, when training reported one.
    @discardableResult
    public func record(sae: SAEConfiguration, name: String = "sae", trainingPrompts: Int, finalLoss: Float? = nil,
                       run: Int64) throws(StoreError) -> Int64 {
        let configuration: String
        do {
            configuration = String(decoding: try Self.jsonEncoder.encode(sae), as: UTF8.self)
        } catch {
            throw .invalidData(path: path, detail: "the SAE configuration cannot be written as JSON: \(error)")
        }
        return try write { db in
            _ = try Self.runningRun(run, db)
            _ = try SAERow.filter(Column("run_id") == run && Column("name") == name).deleteAll(db)
            try SAERow(runID: run, name: name, inputDimension: sae.inputDimension, hiddenUnits: sae.hiddenUnits,
                       configuration: configuration, trainingPrompts: trainingPrompts,
                       finalLoss: finalLoss.flatMap(\.storedValue), recordedAt: Date()).insert(db)
            return db.lastInsertedRowID
        }
    }

    /// Records an attention-sink analysis in one transaction: the whole report as JSON and one
    /// `sink_heads` row per head and BOS setting. Returns the analysis's row id.
    @discardableResult
    public func record(sinks analysis: SinkAnalysis, run: Int64) throws(StoreError) -> Int64 {
        let report: String
        do {
            report = String(decoding: try Self.jsonEncoder.encode(analysis), as: UTF8.self)
        } catch {
            throw .invalidData(path: path, detail: "the sink analysis cannot be written as JSON: \(error)")
        }
        return try write { db in
            _ = try Self.runningRun(run, db)
            try SinkAnalysisRow(runID: run, layers: analysis.model.layers, heads: analysis.model.heads,
                                prompts: analysis.variants.first?.promptCount ?? 0, report: report, recordedAt: Date()).insert(db)
            let id = db.lastInsertedRowID
            for variant in analysis.variants {
                for layer in 0..<variant.layers {
                    for head in 0..<variant.heads {
                        try SinkHeadRow(analysisID: id, bosPrepended: variant.bosPrepended, layer: layer, head: head,
                                        firstTokenMass: variant.firstTokenMass[layer][head].storedValue,
                                        firstTokenSinkRate: variant.firstTokenSinkRate[layer][head].storedValue,
                                        entropy: variant.entropy[layer][head].storedValue,
                                        hiddenSinks: variant.hiddenSinkCounts[layer][head]).insert(db)
                    }
                }
            }
            return id
        }
    }

    /// The attention-sink analyses recorded in a run, oldest first, as ``record(sinks:run:)`` stored them.
    ///
    /// - Throws: ``StoreError/noSuchRun(_:)``, or ``StoreError/invalidData(path:detail:)`` for a
    ///   report that no longer decodes.
    public func sinkAnalyses(run: Int64) throws(StoreError) -> [SinkAnalysis] {
        let rows: [SinkAnalysisRow] = try read { db in
            guard try RunRecord.exists(db, key: run) else { throw StoreError.noSuchRun(run) }
            return try SinkAnalysisRow.filter(Column("run_id") == run).order(Column("id")).fetchAll(db)
        }
        return try rows.map { row throws(StoreError) in
            do {
                return try Self.jsonDecoder.decode(SinkAnalysis.self, from: Data(row.report.utf8))
            } catch {
                throw .invalidData(path: path, detail: "run \(run): sink analysis \(row.id ?? 0) does not decode: \(error)")
            }
        }
    }

    /// Deterministic JSON for blobs, NaN and infinities written as strings so nothing is lost.
    static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// Reads what ``jsonEncoder`` writes.
    static var jsonDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
