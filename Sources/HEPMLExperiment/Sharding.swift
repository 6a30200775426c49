import Foundation
import HEPMLCore

/// One of `count` deterministic parts of a workflow's input (`--shard K/N`, K from 0 to N-1), so
/// that N batch tasks each process one part and one merge gives exactly what a single process
/// writes. Inputs are split by group (a DQM run, a file), never inside a group, into contiguous
/// blocks of the sorted groups whose sizes differ by at most one.
public struct Shard: Codable, Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The most parts a shard specification may name (far above any batch system's array limit).
    public static let maximumCount = 1_000_000

    public init(index: Int, count: Int) throws {
        guard (1...Self.maximumCount).contains(count) else {
            throw ShardError("the shard count \(count) must be between 1 and \(Self.maximumCount)")
        }
        guard (0..<count).contains(index) else {
            throw ShardError("shard \(index) does not exist: with \(count) parts, K runs from 0 to \(count - 1)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N`, as `--shard` and a batch array task (`{task}/{N}`) write it.
    public init(parsing text: String) throws {
        let fields = text.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 2, let index = Int(fields[0]), let count = Int(fields[1]) else {
            throw ShardError("'\(text)' is not a shard: expected K/N, e.g. 0/4")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    private enum CodingKeys: String, CodingKey { case index, count }

    /// A manifest is read from disk: its shard is checked like one given on the command line.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(index: container.decode(Int.self, forKey: .index), count: container.decode(Int.self, forKey: .count))
    }

    /// The groups of this part among `groups` (duplicates count once): the sorted groups at
    /// positions p with ⌊p·N/M⌋ = K.
    public func select<Group: Comparable & Hashable>(_ groups: some Sequence<Group>) -> Set<Group> {
        let sorted = Set(groups).sorted()
        return Set(sorted[positions(among: sorted.count)])
    }

    /// This part's positions among `total` ordered items: the p with ⌊p·N/M⌋ = K, one contiguous
    /// range (how a part of N takes its block of events or groups).
    public func positions(among total: Int) -> Range<Int> {
        let total = max(total, 0)
        return (index * total + count - 1) / count..<((index + 1) * total + count - 1) / count
    }

    /// `<base>.part-K-of-N`, zero-padded so that a directory listing sorts parts in order.
    public func partName(_ base: String) -> String {
        let width = String(count - 1).count
        func padded(_ value: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(base).part-\(padded(index))-of-\(count)"
    }
}

public struct ShardError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The small JSON file written beside every part (`<part>.manifest.json`): which whole the part
/// belongs to, what it read and what it left out, so that a merge can refuse parts of different
/// wholes and name missing or duplicated ones, and a user can see per part what was skipped.
public struct ShardManifest: Codable, Equatable, Sendable {
    /// The command that wrote the part, e.g. `dqm fetch`.
    public var workflow: String
    public var shard: Shard
    /// The part's file name, in the manifest's directory.
    public var part: String
    /// What every part of one whole must agree on, by name (content hashes of the configuration
    /// files and of the complete input list, the primary dataset, …).
    public var fingerprints: [String: String]
    /// The input files this part read.
    public var inputs: [String]
    public var skipped: [Skipped]
    /// Values the part stored as null, and why.
    public var nulls: [Null]
    /// Free-form totals (runs read, rows written, …).
    public var counts: [String: Int]
    /// Findings about the whole that every part sees alike (e.g. requested runs without a file);
    /// a merge reports them once.
    public var notes: [String]

    public struct Skipped: Codable, Equatable, Sendable {
        public var path: String
        public var reason: String
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    public struct Null: Codable, Equatable, Sendable {
        /// The row's key, e.g. `run 355872`.
        public var item: String
        public var column: String
        public var reason: String
        public init(item: String, column: String, reason: String) {
            self.item = item
            self.column = column
            self.reason = reason
        }
    }

    public init(workflow: String, shard: Shard, part: String, fingerprints: [String: String], inputs: [String] = [],
                skipped: [Skipped] = [], nulls: [Null] = [], counts: [String: Int] = [:], notes: [String] = []) {
        self.workflow = workflow
        self.shard = shard
        self.part = part
        self.fingerprints = fingerprints
        self.inputs = inputs
        self.skipped = skipped
        self.nulls = nulls
        self.counts = counts
        self.notes = notes
    }

    /// `DIR/NAME.parquet` → `DIR/NAME.manifest.json`.
    public static func path(forPart partPath: String) -> String {
        ((partPath as NSString).deletingPathExtension as String) + ".manifest.json"
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path)
    }

    public static func read(path: String) throws -> ShardManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileFormatError(file: path, reason: "cannot read the shard manifest (every part needs the .manifest.json written beside it)")
        }
        do {
            return try JSONDecoder().decode(ShardManifest.self, from: data)
        } catch {
            throw FileFormatError(file: path, reason: "not a shard manifest: \(error)")
        }
    }

    /// A stable content hash (64-bit FNV-1a, hex) for `fingerprints`: equal bytes, equal text.
    public static func fingerprint(_ data: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The one check every merge runs before combining parts.
public enum ShardSet {
    /// The manifests of `parts` (part file paths) ordered by shard index, after checking that they
    /// form exactly one whole: one workflow, equal fingerprints, one N, every index from 0 to N-1
    /// once. The error lists every missing and duplicated shard and every differing fingerprint.
    public static func manifests(ofParts parts: [String]) throws -> [(part: String, manifest: ShardManifest)] {
        guard !parts.isEmpty else { throw ShardError("no parts to merge") }
        let loaded = try parts.map { part in (part: part, manifest: try ShardManifest.read(path: ShardManifest.path(forPart: part))) }
        let reference = loaded[0]
        var problems: [String] = []
        // The compared values come from the manifests, so the messages name those files (a damaged manifest is found).
        let referenceFile = ShardManifest.path(forPart: reference.part)
        for (part, manifest) in loaded.dropFirst() {
            let file = ShardManifest.path(forPart: part)
            if manifest.workflow != reference.manifest.workflow {
                problems.append("\(file) was written by `\(manifest.workflow)`, \(referenceFile) by `\(reference.manifest.workflow)`")
            }
            if manifest.shard.count != reference.manifest.shard.count {
                problems.append("\(file) is one of \(manifest.shard.count) parts, \(referenceFile) one of \(reference.manifest.shard.count)")
            }
            for key in Set(manifest.fingerprints.keys).union(reference.manifest.fingerprints.keys).sorted()
            where manifest.fingerprints[key] != reference.manifest.fingerprints[key] {
                problems.append("\(file) and \(referenceFile) differ in \(key) (\(manifest.fingerprints[key] ?? "absent") vs \(reference.manifest.fingerprints[key] ?? "absent"))")
            }
        }
        if problems.isEmpty {
            let count = reference.manifest.shard.count
            let byIndex = Dictionary(grouping: loaded, by: { $0.manifest.shard.index })
            let missing = (0..<count).filter { byIndex[$0] == nil }
            if !missing.isEmpty {
                problems.append("missing shard\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) of \(count)")
            }
            for (index, copies) in byIndex.sorted(by: { $0.key < $1.key }) where copies.count > 1 {
                problems.append("shard \(index)/\(count) given \(copies.count) times: \(copies.map { $0.part }.joined(separator: ", "))")
            }
        }
        guard problems.isEmpty else { throw ShardError("cannot merge: " + problems.joined(separator: "; ")) }
        return loaded.sorted { $0.manifest.shard.index < $1.manifest.shard.index }
    }
}
