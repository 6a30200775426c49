import Foundation
import HEPMLRemote
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a standard DQM file name says, e.g.
/// `DQM_V0001_R000355872__HLTPhysics__Run2022C-PromptReco-v1__DQMIO.root`.
public struct DQMFileName: Sendable, Equatable {
    public var run: Int
    /// `HLTPhysics`; nil for online-style names (`DQM_V0001_SiStrip_R000351871.root`).
    public var primaryDataset: String?
    /// `Run2022C-PromptReco-v1`: the era followed by the processing string.
    public var processing: String?
    /// 2022 from `Run2022C`.
    public var year: Int?
    /// `C` from `Run2022C`.
    public var era: String?

    /// Parses a file name (a path is reduced to its last component); nil when no run number
    /// can be found. The run number is every digit after `_R`, not upstream's "last six".
    public init?(_ pathOrName: String) {
        let name = (pathOrName as NSString).lastPathComponent
        let fields = name.components(separatedBy: "__")
        guard let runField = fields.first?.split(separator: "_").last(where: Self.isRunField),
              let run = Int(runField.dropFirst().prefix { $0 != "." }), run > 0
        else { return nil }
        self.run = run
        if fields.count >= 3 {
            primaryDataset = fields[1]
            processing = fields[2]
            let eraField = fields[2].split(separator: "-").first.map(String.init) ?? ""
            if eraField.hasPrefix("Run"), eraField.count >= 7, let year = Int(eraField.dropFirst(3).prefix(4)) {
                self.year = year
                let era = eraField.dropFirst(7)
                self.era = era.isEmpty ? nil : String(era)
            }
        }
    }

    /// `R` followed by digits only, allowing a `.root` suffix (online names end in the run field).
    private static func isRunField(_ field: Substring) -> Bool {
        let digits = field.hasSuffix(".root") ? field.dropLast(5) : field
        return digits.count >= 2 && digits.first == "R" && digits.dropFirst().allSatisfy(\.isASCIIDigit)
    }

    /// The standard offline file name for a run, as `hepml dqm generate` writes it.
    public static func standardName(run: Int, primaryDataset: String, processing: String) -> String {
        let digits = String(run)
        let padded = String(repeating: "0", count: max(0, 9 - digits.count)) + digits
        return "DQM_V0001_R\(padded)__\(primaryDataset)__\(processing)__DQMIO.root"
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Finds input files from `--input DIR|GLOB|FILE-LIST` arguments.
public enum DQMInputDiscovery {
    /// All `.root` files named by `inputs`: a directory (local, or `root://` on an XRootD server) is
    /// searched recursively, a URL of a `.root` file is taken as is, a pattern with
    /// `*`, `?` or `[` is expanded (matched directories are searched too), a `.root` file is taken
    /// as is, and any other file is read as a list of paths, one per line (`#` starts a comment,
    /// relative paths are relative to the list's directory). Returns sorted, unique paths.
    public static func rootFiles(in inputs: [String]) throws -> [String] {
        var found = Set<String>()
        for input in inputs {
            for path in try expand(input) { try collect(path, into: &found, listAllowed: true) }
        }
        return found.sorted()
    }

    private static func expand(_ input: String) throws -> [String] {
        guard input.contains(where: { "*?[".contains($0) }) else { return [input] }
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = glob(input, 0, nil, &matches)
        if status == GLOB_NOMATCH { throw DQMError.invalidConfiguration("no file matches '\(input)'") }
        guard status == 0 else { throw DQMError.invalidConfiguration("cannot expand '\(input)'") }
        return (0..<Int(matches.gl_pathc)).compactMap { index in
            matches.gl_pathv[index].map { String(cString: $0) }
        }
    }

    private static func collect(_ path: String, into found: inout Set<String>, listAllowed: Bool) throws {
        if RemoteLocation.isRemote(path) {
            // A URL ending in .root is a file (opened, and skipped with the reason if it fails,
            // when it is read); any other URL is a directory listed recursively on the server.
            if isDQMFile(path) {
                found.insert(path)
            } else {
                found.formUnion(try RemoteFiles.listFiles(in: path).filter(isDQMFile))
            }
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DQMError.invalidConfiguration("input '\(path)' does not exist")
        }
        if isDirectory.boolValue {
            guard let walker = FileManager.default.enumerator(atPath: path) else {
                throw DQMError.invalidConfiguration("cannot list directory '\(path)'")
            }
            for case let relative as String in walker where isDQMFile(relative) {
                found.insert((path as NSString).appendingPathComponent(relative))
            }
        } else if isDQMFile(path) {
            found.insert(path)
        } else if listAllowed {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let base = (path as NSString).deletingLastPathComponent
            for rawLine in text.split(whereSeparator: \.isNewline) {
                let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map {
                    $0.trimmingCharacters(in: .whitespaces)
                } ?? ""
                guard !line.isEmpty else { continue }
                let entry = line.hasPrefix("/") || RemoteLocation.isRemote(line) ? line : (base as NSString).appendingPathComponent(line)
                try collect(entry, into: &found, listAllowed: false)
            }
        } else {
            throw DQMError.invalidConfiguration("'\(path)' in a file list is not a .root file")
        }
    }

    private static func isDQMFile(_ path: String) -> Bool {
        path.hasSuffix(".root") && !path.contains(".dqminfo")
    }
}

/// The file chosen for one run of one primary dataset and year.
public struct DQMRunFile: Sendable, Equatable {
    public var run: Int
    /// The datasets-JSON year key, stored verbatim in the `year` column.
    public var year: String
    public var primaryDataset: String
    public var path: String
    public var label: RunLabel

    public init(run: Int, year: String, primaryDataset: String, path: String, label: RunLabel) {
        self.run = run
        self.year = year
        self.primaryDataset = primaryDataset
        self.path = path
        self.label = label
    }
}

/// Chooses one file per run for every primary dataset and year of a datasets JSON.
public enum DQMFileSelection {
    /// Files of `primaryDataset` matching a year's filters (production substring, `Run<year><era>`,
    /// requested runs), one per run, with labels; sorted by run. Pilot and backfill files never
    /// count. Runs requested in the JSON but without a file are returned in `missingRuns`.
    public static func select(files: [String], primaryDataset: String, year: String, settings: DQMDatasets.Year) throws -> (files: [DQMRunFile], missingRuns: [Int]) {
        let requested = settings.runs.map(Set.init)
        var candidates: [Int: [(path: String, name: DQMFileName)]] = [:]
        for path in files {
            let base = (path as NSString).lastPathComponent
            guard !base.contains("pilot"), !base.contains("Backfill"),
                  let name = DQMFileName(base), name.primaryDataset == primaryDataset
            else { continue }
            if let requested, !requested.contains(name.run) { continue }
            if let eras = settings.eras, !eras.contains(where: { base.contains("Run\(year)\($0)") }) { continue }
            if !settings.productions.isEmpty, !settings.productions.contains(where: { $0.isEmpty || base.contains($0) }) { continue }
            candidates[name.run, default: []].append((path, name))
        }
        let runs = candidates.keys.sorted()
        let labels = try RunLabel.assign(runs: runs, goodRuns: settings.goodRuns, badRuns: settings.badRuns)
        let preferredProduction = settings.productions.first.flatMap { $0.isEmpty ? nil : $0 }
        var chosen: [DQMRunFile] = []
        for run in runs {
            let options = (candidates[run] ?? []).sorted { $0.path < $1.path }
            let pick: String?
            if let preferredProduction {
                pick = options.first { ($0.path as NSString).lastPathComponent.contains(preferredProduction) }?.path
            } else {
                pick = options.min { preference($0.name).lexicographicallyPrecedes(preference($1.name)) }?.path
            }
            if let pick {
                chosen.append(DQMRunFile(run: run, year: year, primaryDataset: primaryDataset, path: pick, label: labels[run] ?? .unknown))
            }
        }
        let found = Set(chosen.map(\.run))
        let missing = (settings.runs ?? []).filter { !found.contains($0) }.sorted()
        return (chosen, missing)
    }

    /// Sort key, smaller is preferred: UL, then PromptReco, then re-reco; newest processing date
    /// first (any `Run<year><era>-<DD><Mon><YYYY>` date, not only 2022C), then highest `-vN`.
    static func preference(_ name: DQMFileName) -> [Int] {
        let processing = name.processing ?? ""
        let kind = processing.contains("UL") ? 0 : processing.contains("PromptReco") ? 1 : 2
        return [kind, -processingDate(processing), -processingVersion(processing)]
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `YYYYMMDD` of a `DDMonYYYY` field in the processing string, 0 when there is none.
    private static func processingDate(_ processing: String) -> Int {
        for field in processing.split(separator: "-") where field.count == 9 {
            let characters = Array(field)
            guard let day = Int(String(characters[0..<2])),
                  let month = months.firstIndex(of: String(characters[2..<5])),
                  let year = Int(String(characters[5..<9]))
            else { continue }
            return year * 10000 + (month + 1) * 100 + day
        }
        return 0
    }

    private static func processingVersion(_ processing: String) -> Int {
        guard let field = processing.split(separator: "-").last, field.first == "v" else { return 0 }
        return Int(field.dropFirst()) ?? 0
    }
}
