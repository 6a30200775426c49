import Foundation
import HEPMLCore

/// The A′ masses of the LDMX signal samples (spec B.1), in MeV.
public enum SignalMass {
    public static let all: [Int] = [1, 5, 10, 50, 100, 500, 1000]

    /// `text` as one of the sample masses; unknown masses are refused, because a model with the
    /// mass as an input has only seen these.
    public static func parse(_ text: String) throws -> Int {
        guard let mass = Int(text.trimmingCharacters(in: .whitespaces)), all.contains(mass) else {
            throw LDMXError("unknown A′ mass '\(text)' MeV; the LDMX signal samples have \(all.map(String.init).joined(separator: ", "))")
        }
        return mass
    }
}

/// One input file and what it holds: signal of one A′ mass, or photonuclear background.
public struct LDMXSample: Codable, Equatable, Sendable {
    public var path: String
    /// A′ mass in MeV for signal; nil for background.
    public var massMeV: Int?

    public init(path: String, massMeV: Int?) {
        self.path = path
        self.massMeV = massMeV
    }

    public var isSignal: Bool { massMeV != nil }
}

/// The input files of a study, from `--signal m=FILE… --background FILE…` or a JSON manifest
///
///     {"geometry": "v9", "signal": {"1": ["signal_1.root"], "1000": ["signal_1000.root"]},
///      "background": ["background_0.root"]}
///
/// (relative paths are relative to the manifest). `hepml ldmx generate` writes one.
public struct LDMXManifest: Codable, Equatable, Sendable {
    public var geometry: ECalGeometry.Version
    /// Signal files by mass (MeV, as text in JSON).
    public var signal: [String: [String]]
    public var background: [String]

    public init(geometry: ECalGeometry.Version, signal: [String: [String]], background: [String]) {
        self.geometry = geometry
        self.signal = signal
        self.background = background
    }

    /// Parses `--signal` values `m=FILE` (one file each; repeat the option for more).
    public init(geometry: ECalGeometry.Version, signalArguments: [String], background: [String]) throws {
        var signal: [String: [String]] = [:]
        for argument in signalArguments {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else { throw LDMXError("--signal takes MASS=FILE (mass in MeV), got '\(argument)'") }
            signal[String(try SignalMass.parse(parts[0])), default: []].append(parts[1])
        }
        self.init(geometry: geometry, signal: signal, background: background)
    }

    public static func read(path: String) throws -> LDMXManifest {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw LDMXError("cannot read manifest \(path): \(error.localizedDescription)") }
        var manifest: LDMXManifest
        do { manifest = try JSONDecoder().decode(LDMXManifest.self, from: data) } catch {
            throw FileFormatError(file: path, object: "LDMX manifest", reason: "\(error)")
        }
        for mass in manifest.signal.keys { _ = try SignalMass.parse(mass) }
        let base = (path as NSString).deletingLastPathComponent
        func resolve(_ file: String) -> String { file.hasPrefix("/") || base.isEmpty ? file : (base as NSString).appendingPathComponent(file) }
        manifest.signal = manifest.signal.mapValues { $0.map(resolve) }
        manifest.background = manifest.background.map(resolve)
        return manifest
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path)
    }

    /// Every file in a fixed order: signal by ascending mass, then background. The position is
    /// the `source` of each event in hit tables and image sets.
    public var samples: [LDMXSample] {
        let signalSamples = signal.compactMap { key, files in Int(key).map { (mass: $0, files: files) } }
            .sorted { $0.mass < $1.mass }
            .flatMap { entry in entry.files.map { LDMXSample(path: $0, massMeV: entry.mass) } }
        return signalSamples + background.map { LDMXSample(path: $0, massMeV: nil) }
    }

    /// The masses present, ascending.
    public var masses: [Int] { signal.keys.compactMap { Int($0) }.sorted() }
}

public struct LDMXError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
