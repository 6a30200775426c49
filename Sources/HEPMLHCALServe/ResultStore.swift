import Foundation
import HEPMLHCAL

/// One LS's result as the worker commits it: a new LS (with its raw map) or a stored LS re-scored
/// because an LS of its window arrived.
struct HCALScoredLumisection {
    var run: Int
    var ls: Int
    var numEvents: Int
    var totalOccupancy: Double
    var missingLS: [Int]
    var flags: [HCALFlaggedChannel]
    var maxScore: Double
    /// Per channel `[64, 72, depths]`.
    var scoreMap: [Float]
    /// The raw map and its content hash for a new LS; nil for a re-scored one.
    var newLumisection: (raw: [Float], contentHash: String)?
}

/// What a restarted server needs of one run: its stored LS, the missing LS of incomplete
/// windows, and the raw maps still kept (with their NumEvents).
struct HCALStoredRun {
    var lumisections: Set<Int> = []
    var missing: [Int: [Int]] = [:]
    var rawMaps: [Int: (map: [Float], numEvents: Int)] = [:]
}

/// The SQLite file `hcal-serve.sqlite` in the data directory (WAL mode): the schema, and the one
/// writer connection the ingestion worker owns. Every write of a batch is one transaction.
final class HCALResultWriter {
    static let fileName = "hcal-serve.sqlite"

    static let schema = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS lumisection(run INTEGER NOT NULL, ls INTEGER NOT NULL, num_events INTEGER NOT NULL,
            total_occupancy REAL NOT NULL, flagged INTEGER NOT NULL, max_score REAL NOT NULL, window_complete INTEGER NOT NULL,
            missing_ls TEXT NOT NULL, received_at TEXT NOT NULL, content_hash TEXT NOT NULL, PRIMARY KEY(run, ls));
        CREATE TABLE IF NOT EXISTS flag(run INTEGER NOT NULL, ls INTEGER NOT NULL, ieta INTEGER NOT NULL, iphi INTEGER NOT NULL,
            depth INTEGER NOT NULL, score REAL NOT NULL);
        CREATE INDEX IF NOT EXISTS flag_by_lumisection ON flag(run, ls);
        CREATE TABLE IF NOT EXISTS raw_map(run INTEGER NOT NULL, ls INTEGER NOT NULL, numevents INTEGER NOT NULL,
            content_hash TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY(run, ls));
        CREATE TABLE IF NOT EXISTS score_map(run INTEGER NOT NULL, ls INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(run, ls));
        """

    let connection: SQLiteConnection
    private let insertLumisection, updateLumisection, deleteFlags, insertFlag, insertRawMap, insertScoreMap, pruneRawMaps, pruneScoreMaps,
        selectStored, selectRunLumisections, selectRunMaps: SQLiteStatement
    private let timestamp = ISO8601DateFormatter()

    /// Opens (creating) the database in `directory` for a model of `subdetector`; refuses a data
    /// directory that holds another subdetector's results.
    init(directory: String, subdetector: HCALSubdetector) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        connection = try SQLiteConnection(path: (directory as NSString).appendingPathComponent(Self.fileName))
        // WAL: readers never block the writer; synchronous=FULL: a commit (and so an acknowledgement) survives a power cut.
        try connection.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        try connection.execute(Self.schema)
        let stored = try connection.prepare("SELECT value FROM meta WHERE key = 'subdetector'").rows([]) { $0.text(0) }
        if let existing = stored.first, existing != subdetector.rawValue {
            throw HCALError("\(connection.path) holds \(existing.uppercased()) results; the model scores \(subdetector.rawValue.uppercased()) (use another --data directory)")
        }
        try connection.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('subdetector', ?)").run([.text(subdetector.rawValue)])
        insertLumisection = try connection.prepare("""
            INSERT INTO lumisection(run, ls, num_events, total_occupancy, flagged, max_score, window_complete, missing_ls, received_at, content_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        updateLumisection = try connection.prepare("UPDATE lumisection SET flagged = ?, max_score = ?, window_complete = ?, missing_ls = ? WHERE run = ? AND ls = ?")
        deleteFlags = try connection.prepare("DELETE FROM flag WHERE run = ? AND ls = ?")
        insertFlag = try connection.prepare("INSERT INTO flag(run, ls, ieta, iphi, depth, score) VALUES (?, ?, ?, ?, ?, ?)")
        insertRawMap = try connection.prepare("INSERT OR REPLACE INTO raw_map(run, ls, numevents, content_hash, data) VALUES (?, ?, ?, ?, ?)")
        insertScoreMap = try connection.prepare("INSERT OR REPLACE INTO score_map(run, ls, data) VALUES (?, ?, ?)")
        pruneRawMaps = try connection.prepare("DELETE FROM raw_map WHERE run = ? AND ls NOT IN (SELECT ls FROM raw_map WHERE run = ? ORDER BY ls DESC LIMIT ?)")
        pruneScoreMaps = try connection.prepare("DELETE FROM score_map WHERE run = ? AND ls NOT IN (SELECT ls FROM score_map WHERE run = ? ORDER BY ls DESC LIMIT ?)")
        selectStored = try connection.prepare("SELECT content_hash, \(HCALLumisectionSummary.columns) FROM lumisection WHERE run = ? AND ls = ?")
        selectRunLumisections = try connection.prepare("SELECT ls, missing_ls FROM lumisection WHERE run = ?")
        selectRunMaps = try connection.prepare("SELECT ls, numevents, data FROM raw_map WHERE run = ?")
    }

    /// The stored result of (run, ls) with its content hash, nil when it was never ingested.
    func stored(run: Int, ls: Int) throws -> (contentHash: String, summary: HCALLumisectionSummary)? {
        try selectStored.rows([.integer(run), .integer(ls)]) { row in (row.text(0), HCALLumisectionSummary(row: row, from: 1)) }.first
    }

    /// Commits one batch of results and keeps the raw and score maps of the newest `keepMaps` LS per run.
    func commit(_ results: [HCALScoredLumisection], keepMaps: Int) throws {
        let now = timestamp.string(from: Date())
        try connection.transaction {
            for result in results {
                let missing = Self.encodeList(result.missingLS)
                if let new = result.newLumisection {
                    try insertLumisection.run([.integer(result.run), .integer(result.ls), .integer(result.numEvents), .real(result.totalOccupancy),
                                               .integer(result.flags.count), .real(result.maxScore), .integer(result.missingLS.isEmpty ? 1 : 0),
                                               .text(missing), .text(now), .text(new.contentHash)])
                    try insertRawMap.run([.integer(result.run), .integer(result.ls), .integer(result.numEvents), .text(new.contentHash), .floats(new.raw)])
                } else {
                    try updateLumisection.run([.integer(result.flags.count), .real(result.maxScore), .integer(result.missingLS.isEmpty ? 1 : 0),
                                               .text(missing), .integer(result.run), .integer(result.ls)])
                    try deleteFlags.run([.integer(result.run), .integer(result.ls)])
                }
                for flag in result.flags {
                    try insertFlag.run([.integer(result.run), .integer(result.ls), .integer(flag.ieta), .integer(flag.iphi), .integer(flag.depth), .real(flag.score)])
                }
                try insertScoreMap.run([.integer(result.run), .integer(result.ls), .floats(result.scoreMap)])
            }
            for run in Set(results.map(\.run)) {
                try pruneRawMaps.run([.integer(run), .integer(run), .integer(keepMaps)])
                try pruneScoreMaps.run([.integer(run), .integer(run), .integer(keepMaps)])
            }
        }
    }

    /// One run's stored state (empty for a new run), for a restarted server or a run the worker
    /// had set aside.
    func loadRun(_ run: Int) throws -> HCALStoredRun {
        var stored = HCALStoredRun()
        for (ls, missing) in try selectRunLumisections.rows([.integer(run)], { ($0.integer(0), $0.text(1)) }) {
            stored.lumisections.insert(ls)
            let list = Self.decodeList(missing)
            if !list.isEmpty { stored.missing[ls] = list }
        }
        for (ls, numEvents, map) in try selectRunMaps.rows([.integer(run)], { ($0.integer(0), $0.integer(1), $0.floats(2)) }) {
            stored.rawMaps[ls] = (map, numEvents)
        }
        return stored
    }

    static func encodeList(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }

    static func decodeList(_ text: String) -> [Int] {
        text.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// The read side of the database for the HTTP handlers: its own connection (WAL lets it read
/// while the worker writes), one query at a time under a lock.
final class HCALResultReader: @unchecked Sendable {
    private let lock = NSLock()
    private let connection: SQLiteConnection
    private let runsQuery, lumisectionsQuery, flagsQuery, rawMapQuery, scoreMapQuery, runExistsQuery, countsQuery, lumisectionQuery: SQLiteStatement

    init(directory: String) throws {
        connection = try SQLiteConnection(path: (directory as NSString).appendingPathComponent(HCALResultWriter.fileName))
        runsQuery = try connection.prepare("""
            SELECT run, COUNT(*), MIN(ls), MAX(ls), SUM(flagged > 0), MAX(received_at) FROM lumisection GROUP BY run ORDER BY run DESC
            """)
        lumisectionsQuery = try connection.prepare("SELECT \(HCALLumisectionSummary.columns) FROM lumisection WHERE run = ? ORDER BY ls")
        lumisectionQuery = try connection.prepare("SELECT num_events FROM lumisection WHERE run = ? AND ls = ?")
        flagsQuery = try connection.prepare("SELECT ieta, iphi, depth, score FROM flag WHERE run = ? AND ls = ? ORDER BY score DESC, ieta, iphi, depth")
        rawMapQuery = try connection.prepare("SELECT data FROM raw_map WHERE run = ? AND ls = ?")
        scoreMapQuery = try connection.prepare("SELECT data FROM score_map WHERE run = ? AND ls = ?")
        runExistsQuery = try connection.prepare("SELECT 1 FROM lumisection WHERE run = ? LIMIT 1")
        countsQuery = try connection.prepare("SELECT COUNT(DISTINCT run), COUNT(*) FROM lumisection")
    }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func runs() throws -> [HCALRunSummary] {
        try locked {
            try runsQuery.rows([]) { row in
                HCALRunSummary(run: row.integer(0), lumisections: row.integer(1), firstLS: row.integer(2), lastLS: row.integer(3),
                               flaggedLumisections: row.integer(4), updated: row.text(5))
            }
        }
    }

    func runExists(_ run: Int) throws -> Bool { try locked { try !runExistsQuery.rows([.integer(run)]) { _ in true }.isEmpty } }

    func lumisectionExists(run: Int, ls: Int) throws -> Bool { try locked { try !lumisectionQuery.rows([.integer(run), .integer(ls)]) { _ in true }.isEmpty } }

    func lumisections(run: Int) throws -> [HCALLumisectionSummary] {
        try locked {
            try lumisectionsQuery.rows([.integer(run)]) { HCALLumisectionSummary(row: $0, from: 0) }
        }
    }

    func flags(run: Int, ls: Int) throws -> [HCALFlaggedChannel] {
        try locked {
            try flagsQuery.rows([.integer(run), .integer(ls)]) { row in
                HCALFlaggedChannel(ieta: row.integer(0), iphi: row.integer(1), depth: row.integer(2), score: row.real(3))
            }
        }
    }

    /// The kept raw (occupancy) or score map of an LS, nil when it is no longer kept.
    func map(run: Int, ls: Int, score: Bool) throws -> [Float]? {
        try locked { try (score ? scoreMapQuery : rawMapQuery).rows([.integer(run), .integer(ls)]) { $0.floats(0) }.first }
    }

    func counts() throws -> (runs: Int, lumisections: Int) {
        try locked { try countsQuery.rows([]) { ($0.integer(0), $0.integer(1)) }.first ?? (0, 0) }
    }
}

extension HCALLumisectionSummary {
    /// The `lumisection` columns `init(row:from:)` reads, in its order.
    static let columns = "ls, num_events, total_occupancy, flagged, max_score, window_complete, missing_ls"

    init(row: SQLiteStatement, from first: Int32) {
        self.init(ls: row.integer(first), numEvents: row.integer(first + 1), totalOccupancy: row.real(first + 2), flagged: row.integer(first + 3),
                  maxScore: row.real(first + 4), windowComplete: row.integer(first + 5) != 0, missingLS: HCALResultWriter.decodeList(row.text(first + 6)))
    }
}
