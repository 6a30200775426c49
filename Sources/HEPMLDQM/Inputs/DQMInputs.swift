import Foundation
import HEPMLCore

/// The `--contents` JSON of AutoDQM_ML: `{ "<subsystem>": ["<path inside subsystem>", ...] }`.
public struct DQMContents: Sendable, Equatable {
    /// Histograms in a stable order: subsystems sorted by name (JSON objects carry no order a
    /// decoder keeps), entries in the order the file lists them, duplicates removed.
    public var histograms: [DQMHistogramPath]

    public init(histograms: [DQMHistogramPath]) {
        var seen = Set<DQMHistogramPath>()
        self.histograms = histograms.filter { seen.insert($0).inserted }
    }

    public init(json data: Data, file: String) throws {
        let table: [String: [String]]
        do {
            table = try JSONDecoder().decode([String: [String]].self, from: data)
        } catch {
            throw FileFormatError(file: file, reason: "not a contents JSON ({subsystem: [paths]}): \(describe(error))")
        }
        self.init(histograms: table.keys.sorted().flatMap { subsystem in
            (table[subsystem] ?? []).map { DQMHistogramPath(subsystem: subsystem, entry: $0) }
        })
    }

    public func jsonData() throws -> Data {
        var table: [String: [String]] = [:]
        for path in histograms { table[path.subsystem, default: []].append(path.entry) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(table)
    }
}

/// The `--datasets` JSON of AutoDQM_ML: primary datasets and, per year, which productions, eras
/// and runs to take and which runs are known good or bad.
public struct DQMDatasets: Codable, Sendable, Equatable {
    public struct Year: Codable, Sendable, Equatable {
        /// Substrings a file name must contain (any one); `""` accepts every production.
        public var productions: [String]
        public var eras: [String]?
        public var runs: [Int]?
        public var goodRuns: [Int]?
        public var badRuns: [Int]?
        public var comments: String?

        public init(productions: [String], eras: [String]? = nil, runs: [Int]? = nil, goodRuns: [Int]? = nil, badRuns: [Int]? = nil, comments: String? = nil) {
            self.productions = productions
            self.eras = eras
            self.runs = runs
            self.goodRuns = goodRuns
            self.badRuns = badRuns
            self.comments = comments
        }

        enum CodingKeys: String, CodingKey {
            case productions, eras, runs, comments
            case goodRuns = "good_runs"
            case badRuns = "bad_runs"
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            productions = try container.decode([String].self, forKey: .productions)
            eras = try container.decodeIfPresent([String].self, forKey: .eras)
            runs = try Self.decodeRuns(container, .runs)
            goodRuns = try Self.decodeRuns(container, .goodRuns)
            badRuns = try Self.decodeRuns(container, .badRuns)
            // Upstream treats comments as free text; accept a list of lines as well.
            if let text = try? container.decodeIfPresent(String.self, forKey: .comments) {
                comments = text
            } else {
                comments = (try? container.decodeIfPresent([String].self, forKey: .comments))?.joined(separator: "\n")
            }
        }

        /// Runs are written as strings, the way the upstream files spell them.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(productions, forKey: .productions)
            try container.encodeIfPresent(eras, forKey: .eras)
            try container.encodeIfPresent(runs?.map(String.init), forKey: .runs)
            try container.encodeIfPresent(goodRuns?.map(String.init), forKey: .goodRuns)
            try container.encodeIfPresent(badRuns?.map(String.init), forKey: .badRuns)
            try container.encodeIfPresent(comments, forKey: .comments)
        }

        /// Run numbers are strings in the upstream files; plain integers are accepted too.
        private static func decodeRuns(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [Int]? {
            guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
            if let numbers = try? container.decode([Int].self, forKey: key) { return numbers }
            let texts = try container.decode([String].self, forKey: key)
            return try texts.map { text in
                guard let run = Int(text.trimmingCharacters(in: .whitespaces)), run >= 0 else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(text)' is not a run number")
                }
                return run
            }
        }
    }

    public var primaryDatasets: [String]
    /// Keyed by the year as written in the file (it becomes the `year` column verbatim).
    public var years: [String: Year]

    public init(primaryDatasets: [String], years: [String: Year]) {
        self.primaryDatasets = primaryDatasets
        self.years = years
    }

    enum CodingKeys: String, CodingKey {
        case primaryDatasets = "primary_datasets"
        case years
    }

    public init(json data: Data, file: String) throws {
        do {
            self = try JSONDecoder().decode(DQMDatasets.self, from: data)
        } catch {
            throw FileFormatError(file: file, reason: "not a datasets JSON: \(describe(error))")
        }
        for (year, settings) in years {
            let conflicting = Set(settings.goodRuns ?? []).intersection(settings.badRuns ?? []).sorted()
            guard conflicting.isEmpty else {
                throw FileFormatError(file: file, object: "years.\(year)", reason: "runs listed as both good and bad: \(conflicting.map(String.init).joined(separator: ", "))")
            }
        }
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// The `label` column: AutoDQM_ML's `kANOMALOUS = 1`, `kGOOD = 0`, and -1 for unknown.
public enum RunLabel: Int, Sendable, Codable, CaseIterable {
    case bad = 1
    case good = 0
    case unknown = -1

    /// Labels with the v1 ("clean reference design") semantics: a listed run has its list's
    /// label; when only one list is given, every unlisted run gets the other label; when both or
    /// neither are given, unlisted runs are unknown. A run listed as both good and bad is a
    /// configuration error rather than silently good (upstream HEAD's order-dependent choice).
    public static func assign(runs: [Int], goodRuns: [Int]?, badRuns: [Int]?) throws -> [Int: RunLabel] {
        let good = Set(goodRuns ?? [])
        let bad = Set(badRuns ?? [])
        let conflicting = good.intersection(bad).sorted()
        guard conflicting.isEmpty else {
            throw DQMError.invalidConfiguration("runs listed as both good and bad: \(conflicting.map(String.init).joined(separator: ", "))")
        }
        let unlisted: RunLabel
        switch (goodRuns != nil, badRuns != nil) {
        case (false, true): unlisted = .good
        case (true, false): unlisted = .bad
        default: unlisted = .unknown
        }
        var labels: [Int: RunLabel] = [:]
        for run in runs {
            labels[run] = bad.contains(run) ? .bad : good.contains(run) ? .good : unlisted
        }
        return labels
    }
}

/// A short reason from a decoding error, naming the key path where it happened.
func describe(_ error: Error) -> String {
    func path(_ codingPath: [CodingKey]) -> String {
        codingPath.isEmpty ? "top level" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    guard let decoding = error as? DecodingError else { return String(describing: error) }
    switch decoding {
    case .keyNotFound(let key, let context):
        return "missing key '\(key.stringValue)' at \(path(context.codingPath))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
    case .dataCorrupted(let context):
        let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
        return "\(context.debugDescription) at \(path(context.codingPath))" + (underlying.map { " (\($0))" } ?? "")
    @unknown default:
        return String(describing: decoding)
    }
}
