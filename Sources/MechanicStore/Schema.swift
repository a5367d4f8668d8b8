import GRDB

/// The store's schema: named, append-only migrations.
///
/// A migration, once released, is never edited: a change to the schema is a new migration appended
/// at the end (`v2-…`). A database that holds a migration this list lacks was written by a newer
/// Mechanic and is refused (``StoreError/schemaTooNew(path:unknownMigrations:)``).
///
/// ## Tables
///
/// Head ids are `(layer, head)` integer pairs; JSON columns hold arrays or objects as text;
/// timestamps are UTC text `YYYY-MM-DD HH:MM:SS.SSS`. A `NULL` in a score column stands for NaN.
/// Every child row is deleted with its run (`ON DELETE CASCADE`).
///
/// - `runs` (`v1-runs`): `id`, `command`, `arguments` (JSON array of strings), `seed` (the UInt64's
///   Int64 bit pattern), `version`, `model_path`, `model_checksum` (`sha256:<hex>`), `pid`, `host`,
///   `started_at`, `finished_at` (NULL exactly while running), `status` (`running`, `completed`,
///   `failed`, `interrupted`), `message`.
/// - `tasks` (`v1-tasks`), one per run: `run_id`, `name`, `metric` (`logit-diff`, `prob-diff`),
///   `positives`, `negatives`, `dropped_positives`, `has_ground_truth`.
/// - `prompts`: `run_id`, `kind` (`positive`, `negative`), `ordinal`, `text`, `tokens`, `answers`,
///   `wrong_answers` (JSON arrays of token ids), `answer_texts`, `wrong_answer_texts` (JSON arrays of
///   token texts, when a tokenizer was given), `corrupted_text`, `corrupted_tokens`.
/// - `ground_truth`: `run_id`, `layer`, `head`: the circuit the methods are scored against.
/// - `methods` (`v1-methods`), one per scoring method of a run: `id`, `run_id`, `method` (as
///   `HeadScores.method`: `sae`, `sae-edges`, `patching-resample`, `attribution`, `hisp`,
///   `acdc-kl`…), `seconds`, `head_count` (rows it has in `head_scores`), `has_edges`, the circuit
///   rule `circuit_rule` (`top-k`, `threshold`) with `circuit_k` or `circuit_threshold`, `recorded_at`.
///   Unique per `(run_id, method)`.
/// - `head_scores`: `run_id`, `method`, `ordinal` (the position in the method's head list), `layer`,
///   `head`, `score`. Unique per `(run_id, method, layer, head)`.
/// - `edge_scores`: `run_id`, `method`, `ordinal`, `from_layer`, `from_head`, `to_layer`, `to_head`,
///   `score`.
/// - `circuit_heads`: `run_id`, `method`, `layer`, `head`: the heads the circuit rule kept.
/// - `circuit_edges` (a view): the `edge_scores` rows whose two ends are both circuit heads.
/// - `evaluations`: `run_id`, `method`, `auc`, `true_positives`, `false_positives`,
///   `false_negatives`, `precision`, `recall`, `f1`, `faithfulness_full`, `faithfulness_circuit`,
///   `faithfulness_complement`, `faithfulness_random_mean`, `faithfulness_random` (JSON array, one
///   metric value per random head set).
/// - `saes` (`v1-sae`): `id`, `run_id`, `name`, `input_dimension`, `hidden_units`, `configuration`
///   (the `SAEConfiguration` JSON), `training_prompts`, `final_loss`, `recorded_at`.
/// - `sink_analyses` (`v1-sinks`): `id`, `run_id`, `layers`, `heads`, `prompts`, `report` (the
///   whole `SinkAnalysis` as JSON), `recorded_at`.
/// - `sink_heads`: `analysis_id`, `bos_prepended`, `layer`, `head`, `first_token_mass`,
///   `first_token_sink_rate`, `entropy`, `hidden_sinks`: one row per head and BOS setting.
///
/// - `label_controls` (`v2-label-controls`), one per SAE method of a run with the control:
///   `run_id`, `method`, `permutations`, `seed` (Int64 bit pattern), `shuffled_auc_mean`,
///   `shuffled_auc_sd`, `within_noise` (NULL without a ground truth).
/// - `label_control_heads`: `run_id`, `method`, `ordinal`, `layer`, `head`, `observed`,
///   `null_mean`, `null_sd`, `z`, `p`: each head's score against its label-permutation null.
///
/// - `edge_methods` (`v3-edge-graphs`), one per edge-level method of a run: `run_id`, `method`
///   (`eap`, `eap-ig`, `eap-ig-activations`, `edge-patching`, `acdc-edges`), `ablation`
///   (`counterfactual`, `mean`, `zero`), `prompts` (how many the scores and curve used), `seconds`, `edge_count`, `graph` (the graph's shape as
///   JSON, MIB's `cfg` keys), `node_auc` (edge-derived head scores against the ground truth),
///   `recorded_at`.
/// - `graph_edge_scores`: `run_id`, `method`, `ordinal` (the edge's index in the graph), `edge`
///   (its MIB name, `a0.h1->a2.h3<q>`), `score`.
/// - `faithfulness_curves`: `run_id`, `method`, `ablation`, `full_model` (m(N)), `empty_circuit`
///   (m(∅)), `cpr`, `cmd` (areas over the raw fractions, as MIB), `recorded_at`; one per method and
///   ablation.
/// - `faithfulness_points`: `run_id`, `method`, `ablation`, `ordinal`, `fraction`, `edges`,
///   `faithfulness`: the curve, size by size.
///
/// Read it from Python while a run writes (the database is in WAL mode):
///
/// ```python
/// import sqlite3
/// db = sqlite3.connect("file:mechanic.sqlite?mode=ro", uri=True)
/// db.execute("SELECT method, layer, head, score FROM head_scores WHERE run_id = ? ORDER BY score DESC", (1,))
/// ```
enum Schema {
    /// Every migration, oldest first.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-runs", migrate: createRuns)
        migrator.registerMigration("v1-tasks", migrate: createTasks)
        migrator.registerMigration("v1-methods", migrate: createMethods)
        migrator.registerMigration("v1-sae", migrate: createSAEs)
        migrator.registerMigration("v1-sinks", migrate: createSinks)
        migrator.registerMigration("v2-label-controls", migrate: createLabelControls)
        migrator.registerMigration("v3-edge-graphs", migrate: createEdgeGraphs)
        return migrator
    }

    static func createRuns(_ db: Database) throws {
        try db.create(table: "runs") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("command", .text).notNull()
            t.column("arguments", .text).notNull()
            t.column("seed", .integer)
            t.column("version", .text).notNull()
            t.column("model_path", .text)
            t.column("model_checksum", .text)
            t.column("pid", .integer).notNull()
            t.column("host", .text).notNull()
            t.column("started_at", .datetime).notNull()
            t.column("finished_at", .datetime)
            t.column("status", .text).notNull().indexed()
                .check(sql: "status IN ('running', 'completed', 'failed', 'interrupted')")
            t.column("message", .text)
            t.check(sql: "(status = 'running') = (finished_at IS NULL)")
        }
    }

    static func createTasks(_ db: Database) throws {
        try db.create(table: "tasks") { t in
            t.primaryKey("run_id", .integer).references("runs", onDelete: .cascade)
            t.column("name", .text).notNull()
            t.column("metric", .text).notNull()
            t.column("positives", .integer).notNull().check(sql: "positives >= 0")
            t.column("negatives", .integer).notNull().check(sql: "negatives >= 0")
            t.column("dropped_positives", .integer).notNull().check(sql: "dropped_positives >= 0")
            t.column("has_ground_truth", .boolean).notNull()
        }
        try db.create(table: "prompts") { t in
            t.column("run_id", .integer).notNull().references("tasks", onDelete: .cascade)
            t.column("kind", .text).notNull().check(sql: "kind IN ('positive', 'negative')")
            t.column("ordinal", .integer).notNull().check(sql: "ordinal >= 0")
            t.column("text", .text).notNull()
            t.column("tokens", .text).notNull()
            t.column("answers", .text).notNull()
            t.column("wrong_answers", .text).notNull()
            t.column("answer_texts", .text)
            t.column("wrong_answer_texts", .text)
            t.column("corrupted_text", .text)
            t.column("corrupted_tokens", .text)
            t.primaryKey(["run_id", "kind", "ordinal"])
        }
        try db.create(table: "ground_truth") { t in
            t.column("run_id", .integer).notNull().references("tasks", onDelete: .cascade)
            t.column("layer", .integer).notNull().check(sql: "layer >= 0")
            t.column("head", .integer).notNull().check(sql: "head >= 0")
            t.primaryKey(["run_id", "layer", "head"])
        }
    }

    static func createMethods(_ db: Database) throws {
        try db.create(table: "methods") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
            t.column("method", .text).notNull()
            t.column("seconds", .double).notNull().check(sql: "seconds >= 0")
            t.column("head_count", .integer).notNull().check(sql: "head_count >= 0")
            t.column("has_edges", .boolean).notNull()
            t.column("circuit_rule", .text).check(sql: "circuit_rule IN ('top-k', 'threshold')")
            t.column("circuit_k", .integer).check(sql: "circuit_k >= 0")
            t.column("circuit_threshold", .double)
            t.column("recorded_at", .datetime).notNull()
            t.uniqueKey(["run_id", "method"])
            t.check(sql: "(circuit_rule IS 'top-k') = (circuit_k IS NOT NULL)")
            t.check(sql: "(circuit_rule IS 'threshold') = (circuit_threshold IS NOT NULL)")
        }
        /// Rows keyed by (run, method), deleted with their `methods` row.
        func perMethod(_ name: String, _ body: @escaping (TableDefinition) -> Void) throws {
            try db.create(table: name) { t in
                t.column("run_id", .integer).notNull()
                t.column("method", .text).notNull()
                body(t)
                t.foreignKey(["run_id", "method"], references: "methods", columns: ["run_id", "method"], onDelete: .cascade)
            }
        }
        try perMethod("head_scores") { t in
            t.column("ordinal", .integer).notNull().check(sql: "ordinal >= 0")
            t.column("layer", .integer).notNull().check(sql: "layer >= 0")
            t.column("head", .integer).notNull().check(sql: "head >= 0")
            t.column("score", .double)
            t.primaryKey(["run_id", "method", "layer", "head"])
            t.uniqueKey(["run_id", "method", "ordinal"])
        }
        try perMethod("edge_scores") { t in
            t.column("ordinal", .integer).notNull().check(sql: "ordinal >= 0")
            t.column("from_layer", .integer).notNull()
            t.column("from_head", .integer).notNull()
            t.column("to_layer", .integer).notNull()
            t.column("to_head", .integer).notNull()
            t.column("score", .double)
            t.primaryKey(["run_id", "method", "ordinal"])
        }
        try perMethod("circuit_heads") { t in
            t.column("layer", .integer).notNull()
            t.column("head", .integer).notNull()
            t.primaryKey(["run_id", "method", "layer", "head"])
        }
        try perMethod("evaluations") { t in
            t.column("auc", .double)
            t.column("true_positives", .integer).check(sql: "true_positives >= 0")
            t.column("false_positives", .integer).check(sql: "false_positives >= 0")
            t.column("false_negatives", .integer).check(sql: "false_negatives >= 0")
            t.column("precision", .double)
            t.column("recall", .double)
            t.column("f1", .double)
            t.column("faithfulness_full", .double)
            t.column("faithfulness_circuit", .double)
            t.column("faithfulness_complement", .double)
            t.column("faithfulness_random_mean", .double)
            t.column("faithfulness_random", .text)
            t.primaryKey(["run_id", "method"])
            t.check(sql: "(true_positives IS NULL) = (false_positives IS NULL) AND (true_positives IS NULL) = (false_negatives IS NULL)")
        }
        try db.execute(sql: """
            CREATE VIEW circuit_edges AS
            SELECT e.* FROM edge_scores e
            JOIN circuit_heads a ON a.run_id = e.run_id AND a.method = e.method AND a.layer = e.from_layer AND a.head = e.from_head
            JOIN circuit_heads b ON b.run_id = e.run_id AND b.method = e.method AND b.layer = e.to_layer AND b.head = e.to_head
            """)
    }

    static func createLabelControls(_ db: Database) throws {
        try db.create(table: "label_controls") { t in
            t.column("run_id", .integer).notNull()
            t.column("method", .text).notNull()
            t.column("permutations", .integer).notNull().check(sql: "permutations > 0")
            t.column("seed", .integer).notNull()
            t.column("shuffled_auc_mean", .double)
            t.column("shuffled_auc_sd", .double)
            t.column("within_noise", .boolean)
            t.primaryKey(["run_id", "method"])
            t.foreignKey(["run_id", "method"], references: "methods", columns: ["run_id", "method"], onDelete: .cascade)
        }
        try db.create(table: "label_control_heads") { t in
            t.column("run_id", .integer).notNull()
            t.column("method", .text).notNull()
            t.column("ordinal", .integer).notNull().check(sql: "ordinal >= 0")
            t.column("layer", .integer).notNull().check(sql: "layer >= 0")
            t.column("head", .integer).notNull().check(sql: "head >= 0")
            t.column("observed", .double)
            t.column("null_mean", .double)
            t.column("null_sd", .double)
            t.column("z", .double)
            t.column("p", .double)
            t.primaryKey(["run_id", "method", "ordinal"])
            t.foreignKey(["run_id", "method"], references: "label_controls", columns: ["run_id", "method"], onDelete: .cascade)
        }
    }

    static func createSAEs(_ db: Database) throws {
        try db.create(table: "saes") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
            t.column("name", .text).notNull()
            t.column("input_dimension", .integer).notNull()
            t.column("hidden_units", .integer).notNull()
            t.column("configuration", .text).notNull()
            t.column("training_prompts", .integer).notNull().check(sql: "training_prompts >= 0")
            t.column("final_loss", .double)
            t.column("recorded_at", .datetime).notNull()
            t.uniqueKey(["run_id", "name"])
        }
    }

    static func createSinks(_ db: Database) throws {
        try db.create(table: "sink_analyses") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("run_id", .integer).notNull().indexed().references("runs", onDelete: .cascade)
            t.column("layers", .integer).notNull()
            t.column("heads", .integer).notNull()
            t.column("prompts", .integer).notNull()
            t.column("report", .text).notNull()
            t.column("recorded_at", .datetime).notNull()
        }
        try db.create(table: "sink_heads") { t in
            t.column("analysis_id", .integer).notNull().references("sink_analyses", onDelete: .cascade)
            t.column("bos_prepended", .boolean).notNull()
            t.column("layer", .integer).notNull()
            t.column("head", .integer).notNull()
            t.column("first_token_mass", .double)
            t.column("first_token_sink_rate", .double)
            t.column("entropy", .double)
            t.column("hidden_sinks", .integer).notNull()
            t.primaryKey(["analysis_id", "bos_prepended", "layer", "head"])
        }
    }

    static func createEdgeGraphs(_ db: Database) throws {
        try db.create(table: "edge_methods") { t in
            t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
            t.column("method", .text).notNull()
            t.column("ablation", .text).notNull().check(sql: "ablation IN ('counterfactual', 'mean', 'zero')")
            t.column("prompts", .integer).notNull().check(sql: "prompts >= 0")
            t.column("seconds", .double).notNull()
            t.column("edge_count", .integer).notNull().check(sql: "edge_count >= 0")
            t.column("graph", .text).notNull()
            t.column("node_auc", .double)
            t.column("recorded_at", .datetime).notNull()
            t.primaryKey(["run_id", "method"])
        }
        try db.create(table: "graph_edge_scores") { t in
            t.column("run_id", .integer).notNull()
            t.column("method", .text).notNull()
            t.column("ordinal", .integer).notNull().check(sql: "ordinal >= 0")
            t.column("edge", .text).notNull()
            t.column("score", .double)
            t.primaryKey(["run_id", "method", "ordinal"])
            t.foreignKey(["run_id", "method"], references: "edge_methods", columns: ["run_id", "method"], onDelete: .cascade)
        }
        try db.create(table: "faithfulness_curves") { t in
            t.column("run_id", .integer).notNull()
            t.column("method", .text).notNull()
            t.column("ablation", .text).notNull().check(sql: "ablation IN ('counterfactual', 'mean', 'zero')")
            t.column("full_model", .double)
            t.column("empty_circuit", .double)
            t.column("cpr", .double)
            t.column("cmd", .double)
            t.column("recorded_at", .datetime).notNull()
            t.primaryKey(["run_id", "method", "ablation"])
            t.foreignKey(["run_id", "method"], references: "edge_methods", columns: ["run_id", "method"], onDelete: .cascade)
        }
        try db.create(table: "faithfulness_points") { t in
            t.column("run_id", .integer).notNull()
            t.column("method", .text).notNull()
            t.column("ablation", .text).notNull()
            t.column("ordinal", .integer).notNull().check(sql: "ordinal >= 0")
            t.column("fraction", .double).notNull()
            t.column("edges", .integer).notNull().check(sql: "edges >= 0")
            t.column("faithfulness", .double)
            t.primaryKey(["run_id", "method", "ablation", "ordinal"])
            t.foreignKey(["run_id", "method", "ablation"], references: "faithfulness_curves",
                         columns: ["run_id", "method", "ablation"], onDelete: .cascade)
        }
    }
}
