import Foundation
import HEPMLCore

/// Physically shaped synthetic LDMX ECal events, so that the workflow runs and is tested without
/// LDMX's internal samples. Not a simulation: every shape is a textbook parametrisation with a
/// few constants, chosen so that the classes differ the way the spec (B.1, B.8) describes.
///
/// - Beam: 4 GeV electrons along +z; the target at z = 0, the ECal front downstream.
/// - Signal (A′ of mass m): the A′ leaves unseen with most of the beam energy; the ECal sees the
///   recoil electron only, a soft electromagnetic shower near the beam axis. The recoil energy
///   fraction has mean 0.04 + 0.22·(m / 1 GeV)^0.4 (≈ 220 MeV at 1 MeV, ≈ 1 GeV at 1 GeV) and
///   its transverse momentum scale is 5 MeV + m/4, so heavier A′s give harder, wider recoils.
/// - Background (photonuclear, PN): the electron radiates a hard photon (60–97 % of the beam
///   energy) that passes the first layers and then interacts with a nucleus at an exponentially
///   distributed depth; 2–50 % of its energy becomes visible as π⁰ showers and hadron clusters
///   at wide angles and as MIP tracks of charged hadrons through many layers; the rest leaves
///   as neutrons. The soft recoil electron showers beside it.
/// - Showers: longitudinal gamma profile with t_max = ln(E/E_c) − 0.5 radiation lengths (E_c =
///   8 MeV, the ECal is taken as 40 X₀ deep), transverse core of 0.12 Molière radii (15 mm)
///   widening with depth, plus a 15 % tail; energy in quanta of about 3 MeV.
/// - Readout: energy summed per hexagonal cell, hits at cell centres and layer z; hit energies
///   are calibrated (the shower energy the layer samples), a MIP leaves 0.13 MeV·(1 + w) in a
///   layer of sampling weight w; noise of 1506 e⁻ (900 e⁻ + 22 e⁻/pF · 27.56 pF, 3.6 eV each)
///   per cell and a threshold of 4 noise RMS (spec B.8).
/// - Trigger: events with ≥ 1.5 GeV in the first 20 layers are regenerated.
/// Every event draws from its own generator stream, so a data set does not depend on threads.
public struct ECalEventGenerator: Sendable {
    public var geometry: ECalGeometry
    public var seed: UInt64

    public static let beamEnergy = 4000.0
    public static let triggerLayers = 20
    public static let triggerThreshold = 1500.0
    static let radiationLengths = 40.0
    static let criticalEnergy = 8.0
    static let moliereRadius = 15.0
    static let quantum = 3.0
    static let mipRaw = 0.13
    static let noiseRaw = 1506 * 3.6e-6

    public init(geometry: ECalGeometry, seed: UInt64) {
        self.geometry = geometry
        self.seed = seed
        layerDepthX0 = geometry.layerZ.map { ($0 - geometry.frontZ) / geometry.depth * Self.radiationLengths }
        let spacing = zip(layerDepthX0, [0] + layerDepthX0.dropLast()).map { $0 - $1 }
        layerThicknessX0 = spacing
        scale = ECalGeometry.layerWeights.map { 1 + $0 }
    }

    let layerDepthX0: [Double]
    let layerThicknessX0: [Double]
    let scale: [Double]

    public enum Kind: Sendable, Equatable {
        case signal(massMeV: Int)
        case background
    }

    /// `count` triggered events of `kind`; `source` (the file's index) keeps the streams of
    /// different files apart. Event numbers are 1…count.
    public func events(_ kind: Kind, count: Int, source: Int) throws -> ECalHitTable {
        let chunk = 2048
        let chunks = (count + chunk - 1) / chunk
        let parts = try Parallel.map(chunks) { index in
            var table = ECalHitTable()
            for event in (index * chunk)..<min(count, (index + 1) * chunk) {
                var generator = SeededGenerator(seed: self.seed, stream: UInt64(source) << 32 | UInt64(event))
                let hits = self.triggeredEvent(kind, &generator)
                for hit in hits {
                    table.x.append(hit.x); table.y.append(hit.y); table.z.append(hit.z); table.energy.append(hit.energy)
                }
                table.eventOffsets.append(table.hitCount)
                table.eventNumbers.append(Int64(event + 1))
                table.sources.append(Int32(source))
                switch kind {
                case .signal(let mass): table.labels.append(1); table.massesMeV.append(Float(mass))
                case .background: table.labels.append(0); table.massesMeV.append(0)
                }
            }
            return table
        }
        var table = ECalHitTable()
        for part in parts { table.append(part) }
        return table
    }

    struct Hit { var x: Float, y: Float, z: Float, energy: Float }

    /// Regenerates until the event passes the trigger and has a hit.
    func triggeredEvent(_ kind: Kind, _ g: inout SeededGenerator) -> [Hit] {
        while true {
            var deposits = Deposits(geometry: geometry)
            switch kind {
            case .signal(let mass): signal(mass: Double(mass), into: &deposits, &g)
            case .background: background(into: &deposits, &g)
            }
            let hits = readout(deposits, &g)
            var early = 0.0
            for hit in hits where geometry.nearestLayer(z: Double(hit.z)) < Self.triggerLayers { early += Double(hit.energy) }
            if early < Self.triggerThreshold && !hits.isEmpty { return hits }
        }
    }

    /// Energy per cell before readout, as (layer·cells + cell, energy) pairs.
    struct Deposits {
        let geometry: ECalGeometry
        var keys: [Int] = []
        var energies: [Double] = []
        let columns: Int, cellsPerLayer: Int

        init(geometry: ECalGeometry) {
            self.geometry = geometry
            columns = geometry.latticeColumns
            cellsPerLayer = geometry.latticeRows * geometry.latticeColumns
        }

        /// Adds `energy` at (x, y) in `layer`; energy outside the modules leaks out of the ECal.
        mutating func add(layer: Int, x: Double, y: Double, energy: Double) {
            guard abs(x) <= geometry.maximumX, abs(y) <= geometry.maximumY, let cell = geometry.nearestCell(x: x, y: y) else { return }
            let centre = geometry.cellCentre(row: cell.row, column: cell.column)
            guard geometry.module(x: centre.x, y: centre.y) != nil else { return }
            let index = (cell.row + geometry.rowHalfCount) * columns + cell.column + geometry.columnHalfCount
            keys.append(layer * cellsPerLayer + index)
            energies.append(energy)
        }
    }

    /// Sums deposits per cell, adds noise, applies the threshold; hits at cell centres.
    func readout(_ deposits: Deposits, _ g: inout SeededGenerator) -> [Hit] {
        let order = deposits.keys.indices.sorted { deposits.keys[$0] < deposits.keys[$1] }
        var hits: [Hit] = []
        var position = 0
        while position < order.count {
            let key = deposits.keys[order[position]]
            var energy = 0.0
            while position < order.count && deposits.keys[order[position]] == key {
                energy += deposits.energies[order[position]]
                position += 1
            }
            let layer = key / deposits.cellsPerLayer, cell = key % deposits.cellsPerLayer
            let noise = Self.noiseRaw * scale[layer]
            energy += noise * g.nextNormal()
            guard energy >= 4 * noise else { continue }
            let row = cell / deposits.columns - geometry.rowHalfCount, column = cell % deposits.columns - geometry.columnHalfCount
            let centre = geometry.cellCentre(row: row, column: column)
            hits.append(Hit(x: Float(centre.x), y: Float(centre.y), z: Float(geometry.layerZ[layer]), energy: Float(energy)))
        }
        return hits
    }

    /// Where a particle leaving the target with energy `energy` (MeV) and transverse momentum
    /// of scale `transverse` reaches the ECal front, and its slopes dx/dz, dy/dz. Low-momentum
    /// electrons are also bent in x by the fringe field of the magnet.
    func entry(energy: Double, transverse: Double, bends: Bool, _ g: inout SeededGenerator) -> (x: Double, y: Double, sx: Double, sy: Double) {
        let pt = transverse * (-2 * log(max(g.nextUniform(), 1e-12))).squareRoot()
        let phi = 2 * Double.pi * g.nextUniform()
        let sx = pt * cos(phi) / energy, sy = pt * sin(phi) / energy
        let bend = bends ? min(60, 4.5 / (energy / 1000)) : 0
        let front = geometry.frontZ
        return (2 * g.nextNormal() + sx * front + bend, 2 * g.nextNormal() + sy * front, sx, sy)
    }

    /// An electromagnetic shower of `energy` starting at depth `startX0` (radiation lengths from
    /// the front), entering at (x, y) with slopes (sx, sy); `width` scales the transverse size
    /// (1 for electrons and photons, larger for hadronic clusters).
    func shower(energy: Double, startX0: Double, x: Double, y: Double, sx: Double, sy: Double, width: Double,
                into deposits: inout Deposits, _ g: inout SeededGenerator) {
        let tMax = max(0.5, log(energy / Self.criticalEnergy) - 0.5)
        let b = 0.5, a = b * tMax + 1
        let logNorm = a * log(b) - lgamma(a)
        for layer in 0..<geometry.layerCount {
            let s = layerDepthX0[layer] - startX0
            guard s > 0 else { continue }
            let density = exp(logNorm + (a - 1) * log(s) - b * s)
            let layerEnergy = energy * density * layerThicknessX0[layer]
            guard layerEnergy > 1e-3 else { continue }
            let quanta = max(1, g.nextPoisson(mean: layerEnergy / Self.quantum))
            let share = layerEnergy / Double(quanta)
            let dz = geometry.layerZ[layer] - geometry.frontZ
            let core = 0.12 * Self.moliereRadius * width * (1 + s / tMax)
            for _ in 0..<quanta {
                let tail = g.nextUniform() < 0.15
                let radius = tail ? -Self.moliereRadius * width * log(max(g.nextUniform(), 1e-12))
                                  : core * (-2 * log(max(g.nextUniform(), 1e-12))).squareRoot()
                let phi = 2 * Double.pi * g.nextUniform()
                deposits.add(layer: layer, x: x + sx * dz + radius * cos(phi), y: y + sy * dz + radius * sin(phi), energy: share)
            }
        }
    }

    /// A minimum-ionising track from layer `first` with slopes (sx, sy), stopping with
    /// probability `stop` per layer.
    func track(first: Int, x: Double, y: Double, z: Double, sx: Double, sy: Double, stop: Double,
               into deposits: inout Deposits, _ g: inout SeededGenerator) {
        for layer in first..<geometry.layerCount {
            let dz = geometry.layerZ[layer] - z
            // Landau-like: most deposits near one MIP, a long upper tail.
            let landau = 1 + 0.15 * abs(g.nextNormal()) - 0.1 * log(max(g.nextUniform(), 1e-9))
            deposits.add(layer: layer, x: x + sx * dz, y: y + sy * dz, energy: Self.mipRaw * scale[layer] * landau)
            if g.nextUniform() < stop { return }
        }
    }

    func signal(mass: Double, into deposits: inout Deposits, _ g: inout SeededGenerator) {
        let meanFraction = 0.04 + 0.22 * pow(mass / 1000, 0.4)
        // Gamma(2) of that mean: sum of two exponentials.
        let fraction = meanFraction * (-log(max(g.nextUniform(), 1e-12)) - log(max(g.nextUniform(), 1e-12))) / 2
        let energy = min(max(Self.beamEnergy * fraction, 30), 3900)
        let recoil = entry(energy: energy, transverse: 5 + mass / 4, bends: true, &g)
        let start = -log(max(g.nextUniform(), 1e-12)) * 0.5
        shower(energy: energy, startX0: start, x: recoil.x, y: recoil.y, sx: recoil.sx, sy: recoil.sy,
               width: 1, into: &deposits, &g)
    }

    func background(into deposits: inout Deposits, _ g: inout SeededGenerator) {
        let photonEnergy = Self.beamEnergy * (0.6 + 0.37 * g.nextUniform())
        let electronEnergy = Self.beamEnergy - photonEnergy
        let recoil = entry(energy: electronEnergy, transverse: 10, bends: true, &g)
        let start = -log(max(g.nextUniform(), 1e-12)) * 0.5
        shower(energy: electronEnergy, startX0: start, x: recoil.x, y: recoil.y, sx: recoil.sx, sy: recoil.sy,
               width: 1, into: &deposits, &g)
        // The photon flies on along the beam; its photonuclear interaction depth is exponential
        // over about one interaction length, the ECal's depth.
        let photon = entry(energy: photonEnergy, transverse: 10, bends: false, &g)
        let depth = -geometry.depth * log(max(g.nextUniform(), 1e-12))
        guard depth < geometry.depth else { return }
        let interactionZ = geometry.frontZ + depth
        let first = geometry.layerZ.firstIndex { $0 >= interactionZ } ?? geometry.layerCount
        guard first < geometry.layerCount else { return }
        let px = photon.x + photon.sx * depth, py = photon.y + photon.sy * depth
        let startX0 = depth / geometry.depth * Self.radiationLengths
        var visible = photonEnergy * (0.02 + 0.48 * g.nextUniform())
        // π⁰ showers and hadron clusters at wide angles.
        let clusters = 1 + g.nextPoisson(mean: 1.5)
        for cluster in 0..<clusters {
            let energy = cluster == clusters - 1 ? visible : visible * g.nextUniform()
            visible -= energy
            let sx = 0.5 * g.nextNormal(), sy = 0.5 * g.nextNormal()
            let isHadronic = g.nextUniform() < 0.5
            let start = startX0 + (isHadronic ? 1 : 0.5) * -log(max(g.nextUniform(), 1e-12))
            shower(energy: energy, startX0: start,
                   x: px - sx * depth, y: py - sy * depth, sx: sx, sy: sy, width: isHadronic ? 2.5 : 1, into: &deposits, &g)
        }
        // Charged hadrons: MIP tracks, some through many layers.
        for _ in 0..<g.nextPoisson(mean: 2) {
            let sx = 0.6 * g.nextNormal(), sy = 0.6 * g.nextNormal(), stop = 0.03 + 0.2 * g.nextUniform()
            track(first: first, x: px, y: py, z: interactionZ, sx: sx, sy: sy, stop: stop, into: &deposits, &g)
        }
    }
}

/// `hepml ldmx generate`: the default synthetic data set as LDMX-layout ROOT files plus a
/// manifest, one file per mass and one background file.
public enum LDMXDataSet {
    public struct Options: Sendable {
        public var geometry = ECalGeometry.Version.v9
        public var masses = SignalMass.all
        public var signalEventsPerMass = 10_000
        public var backgroundEvents = 70_000
        public var seed: UInt64 = 1
        public init() {}
    }

    /// Writes `signal_<m>.root`, `background.root` and `manifest.json` into `directory` and
    /// returns the manifest path.
    @discardableResult
    public static func generate(_ options: Options, in directory: String, log: (String) -> Void = { print($0) }) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let generator = ECalEventGenerator(geometry: ECalGeometry(options.geometry), seed: options.seed)
        var signal: [String: [String]] = [:]
        for (index, mass) in options.masses.enumerated() {
            let name = "signal_\(mass).root"
            let table = try generator.events(.signal(massMeV: mass), count: options.signalEventsPerMass, source: index)
            try ECalHitWriter.write(table, to: (directory as NSString).appendingPathComponent(name))
            signal[String(mass)] = [name]
            log("\(name): " + perEvent(table))
        }
        let background = try generator.events(.background, count: options.backgroundEvents, source: options.masses.count)
        try ECalHitWriter.write(background, to: (directory as NSString).appendingPathComponent("background.root"))
        log("background.root: " + perEvent(background))
        let manifestPath = (directory as NSString).appendingPathComponent("manifest.json")
        try LDMXManifest(geometry: options.geometry, signal: signal, background: ["background.root"]).write(to: manifestPath)
        return manifestPath
    }

    static func perEvent(_ table: ECalHitTable) -> String {
        let events = Double(max(1, table.eventCount))
        return String(format: "%d events, %.1f hits and %.0f MeV per event", table.eventCount, Double(table.hitCount) / events,
                      Double(table.energy.reduce(0, +)) / events)
    }
}
