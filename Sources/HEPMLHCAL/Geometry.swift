import Foundation
import HEPMLColumnar
import HEPMLCore

/// The HCAL subdetectors whose digi-occupancy maps the Hcal4DQMAnalyzer layout holds (HF and HO
/// do not fit its |ieta| ≤ 32 axis).
public enum HCALSubdetector: String, Codable, Sendable, CaseIterable {
    case he, hb

    /// Depth axis length of the subdetector's maps (upstream: HE 7, HB 4).
    public var depthCount: Int { self == .he ? 7 : 4 }
    /// |ieta| covered (upstream's anomaly and DC ranges).
    public var absoluteEtaRange: ClosedRange<Int> { self == .he ? 16...29 : 1...16 }
    /// RBX name prefix ("HE", "HB") in an emap CSV.
    public var rbxPrefix: String { rawValue.uppercased() }

    /// Depths read out at |ieta| = `eta`, from the public Phase-1 segmentation (HE with SiPMs,
    /// up to 7 depths; HB with 4). Without an emap CSV this stands in for the upstream
    /// `hcal_segmentation_info.csv`, which is not public; the HE ieta 16/17 transition rows and
    /// the per-ring depth counts are approximations of that table.
    public func depths(atAbsoluteEta eta: Int) -> ClosedRange<Int>? {
        switch self {
        case .hb:
            switch eta {
            case 1...15: return 1...4
            case 16: return 1...3
            default: return nil
            }
        case .he:
            switch eta {
            case 16: return 4...4
            case 17: return 2...3
            case 18: return 1...5
            case 19...25: return 1...6
            case 26...28: return 1...7
            case 29: return 1...3
            default: return nil
            }
        }
    }

    /// HE rings from |ieta| 21 on have 10° towers: only odd iphi is read out.
    public func isReadOut(absoluteEta eta: Int, iphi: Int) -> Bool {
        self == .he && eta >= 21 ? iphi % 2 == 1 : true
    }
}

/// The canonical ("emap") index layout of every map after the Emap adjust: 64 ieta slots
/// (−32…−1 → 0…31, +1…+32 → 32…63, no ieta 0), 72 iphi slots (iphi − 1), depth − 1.
public enum HCALIndex {
    public static let etaCount = 64
    public static let phiCount = 72
    /// Channels per depth slice.
    public static var slice: Int { etaCount * phiCount }

    public static func etaIndex(_ ieta: Int) -> Int? {
        guard ieta != 0, abs(ieta) <= 32 else { return nil }
        return ieta < 0 ? ieta + 32 : ieta + 31
    }

    public static func ieta(ofIndex index: Int) -> Int { index <= 31 ? index - 32 : index - 31 }

    /// Flat index of (ieta slot, iphi slot, depth slot) in a `[64, 72, depths]` map.
    @inline(__always)
    public static func flat(eta: Int, phi: Int, depth: Int, depths: Int) -> Int { (eta * phiCount + phi) * depths + depth }

    /// Readout box of a channel: 18 per side, each 4 iphi starting at iphi 71 (HEP01 = iphi 71, 72,
    /// 1, 2), numbered 1…18 — the CMS convention for HB and HE.
    public static func rbx(iphi: Int) -> Int { ((iphi + 1) % 72) / 4 + 1 }
}

/// Active channels of one subdetector: 1 where a channel is read out, `[64, 72, depths]` in the
/// emap index layout. iphi 72 (slot 71) is always inactive: the analyzer's iphi axis loses it.
public struct HCALMask: Sendable, Equatable {
    public var subdetector: HCALSubdetector
    public var active: [Bool]

    public var depthCount: Int { subdetector.depthCount }
    public var activeCount: Int { active.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The mask from the public geometry (`HCALSubdetector.depths(atAbsoluteEta:)`).
    public init(geometry subdetector: HCALSubdetector) {
        self.subdetector = subdetector
        let depths = subdetector.depthCount
        var active = [Bool](repeating: false, count: HCALIndex.slice * depths)
        for eta in subdetector.absoluteEtaRange {
            guard let range = subdetector.depths(atAbsoluteEta: eta) else { continue }
            for side in [-1, 1] {
                guard let etaIndex = HCALIndex.etaIndex(side * eta) else { continue }
                for iphi in 1...71 where subdetector.isReadOut(absoluteEta: eta, iphi: iphi) {
                    for depth in range where depth <= depths {
                        active[HCALIndex.flat(eta: etaIndex, phi: iphi - 1, depth: depth - 1, depths: depths)] = true
                    }
                }
            }
        }
        self.active = active
    }

    /// The mask from an HCAL emap/lmap CSV (columns `Det`, `type/depth`, `RBX`, `Eta`, `Phi`, as
    /// upstream's `hcal_segmentation_info.csv`): rows of the subdetector's RBXes, calibration
    /// channels and depth −999 dropped, `Eta` an absolute value filled on both sides.
    public init(emapCSV path: String, subdetector: HCALSubdetector) throws {
        self.subdetector = subdetector
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw FileFormatError(file: path, reason: "cannot read the emap CSV: \(error.localizedDescription)")
        }
        var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard !lines.isEmpty else { throw FileFormatError(file: path, reason: "empty emap CSV") }
        let header = lines.removeFirst()
        func column(_ name: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else { throw FileFormatError(file: path, object: "header", reason: "no column '\(name)' (has \(header))") }
            return index
        }
        let det = try column("Det"), depthColumn = try column("type/depth"), rbx = try column("RBX"), eta = try column("Eta"), phi = try column("Phi")
        let depths = subdetector.depthCount
        var active = [Bool](repeating: false, count: HCALIndex.slice * depths)
        for (number, fields) in lines.enumerated() {
            guard fields.count == header.count else {
                throw FileFormatError(file: path, object: "line \(number + 2)", reason: "has \(fields.count) fields, the header \(header.count)")
            }
            guard !["CALIB_HB", "CALIB_HE"].contains(fields[det]), fields[rbx].uppercased().hasPrefix(subdetector.rbxPrefix) else { continue }
            guard let depth = Int(fields[depthColumn]), let absoluteEta = Int(fields[eta]), let iphi = Int(fields[phi]) else {
                throw FileFormatError(file: path, object: "line \(number + 2)", reason: "type/depth, Eta and Phi must be integers")
            }
            guard depth != -999 else { continue }
            guard (1...depths).contains(depth), (1...32).contains(abs(absoluteEta)), (1...72).contains(iphi) else {
                throw FileFormatError(file: path, object: "line \(number + 2)", reason: "channel (eta \(absoluteEta), phi \(iphi), depth \(depth)) outside the \(subdetector.rawValue.uppercased()) map")
            }
            for side in [-1, 1] {
                guard let etaIndex = HCALIndex.etaIndex(side * abs(absoluteEta)) else { continue }
                active[HCALIndex.flat(eta: etaIndex, phi: iphi - 1, depth: depth - 1, depths: depths)] = true
            }
        }
        for etaIndex in 0..<HCALIndex.etaCount {
            for depth in 0..<depths { active[HCALIndex.flat(eta: etaIndex, phi: 71, depth: depth, depths: depths)] = false }
        }
        self.active = active
    }

    init(subdetector: HCALSubdetector, active: [Bool]) {
        self.subdetector = subdetector
        self.active = active
    }

    /// `mask.npy` (uint8 `[64, 72, depths]`, 1 = active) and `mask.csv` (one row per active
    /// channel: ieta, iphi, depth, rbx) — the files a user inspects and plots.
    public func write(to directory: String) throws {
        try NPY.write(try NDArray(active.map { UInt8($0 ? 1 : 0) }, shape: [HCALIndex.etaCount, HCALIndex.phiCount, depthCount]),
                      to: (directory as NSString).appendingPathComponent("mask.npy"))
        var csv = "ieta,iphi,depth,rbx\n"
        for etaIndex in 0..<HCALIndex.etaCount {
            for phi in 0..<HCALIndex.phiCount {
                for depth in 0..<depthCount where active[HCALIndex.flat(eta: etaIndex, phi: phi, depth: depth, depths: depthCount)] {
                    let ieta = HCALIndex.ieta(ofIndex: etaIndex)
                    csv += "\(ieta),\(phi + 1),\(depth + 1),\(subdetector.rbxPrefix)\(ieta < 0 ? "M" : "P")\(String(format: "%02d", HCALIndex.rbx(iphi: phi + 1)))\n"
                }
            }
        }
        try AtomicFile.write(Data(csv.utf8), to: (directory as NSString).appendingPathComponent("mask.csv"))
    }

    /// Reads `mask.npy` written by `write(to:)`.
    public init(file path: String, subdetector: HCALSubdetector) throws {
        let array = try NPY.read(path: path)
        guard array.shape == [HCALIndex.etaCount, HCALIndex.phiCount, subdetector.depthCount] else {
            throw FileFormatError(file: path, object: "mask", reason: "shape \(array.shape), expected [64, 72, \(subdetector.depthCount)]")
        }
        self.init(subdetector: subdetector, active: try array.values(as: UInt8.self).map { $0 != 0 })
    }
}
