import Foundation

/// The LDMX electromagnetic calorimeter as far as images and synthetic events need it
/// (spec B.8, from ldmx-sw `DetDescr/python/EcalHexReadout.py` and `EcalHexReadout.cxx`):
/// 34 silicon layers at fixed z behind the ECal front, each tiled by 7 hexagonal modules (one in
/// the centre, six around it, flat sides at top and bottom) of small corner-down hexagonal cells.
///
/// HEPML lays the cells of all modules of a layer on one layer-wide hexagonal lattice (ldmx-sw
/// lays each module's grid out from the module centre; with v9's 170 mm module pitch those grids
/// are offset from each other by a fraction of a cell). A cell belongs to the module whose
/// hexagon holds its centre. Synthetic hits sit exactly on this lattice; hits of real ldmx-sw
/// files are assigned to the nearest lattice cell, at most one cell radius away.
public struct ECalGeometry: Sendable, Equatable {
    public enum Version: String, Sendable, Codable, CaseIterable {
        case v9, v12
    }

    public let version: Version
    /// z of the ECal front face (mm); the target is upstream at z = 0.
    public let frontZ: Double
    /// Absolute z of the 34 sensitive layers (mm), ascending.
    public let layerZ: [Double]
    /// Depth of the ECal from its front (mm): images bin z over [frontZ, frontZ + depth].
    public let depth: Double
    /// Gap between neighbouring modules (mm).
    public let moduleGap: Double
    /// Module centre to flat side (mm).
    public let moduleMinR = 85.0
    /// Cell sides spanning the module height (ldmx-sw `nCellRHeight`).
    public let cellsPerModuleHeight = 35.3

    public init(_ version: Version) {
        self.version = version
        switch version {
        case .v9:
            frontZ = 200
            layerZ = [4.550, 7.300, 13.800, 18.200, 26.050, 31.950, 41.050, 47.450, 56.550, 62.950, 72.050,
                      78.450, 87.550, 93.950, 103.050, 109.450, 118.550, 124.950, 134.050, 140.450, 149.550, 155.950,
                      165.050, 171.450, 184.050, 193.950, 206.550, 216.450, 229.050, 238.950, 251.550, 261.450,
                      274.050, 283.950].map { 200 + $0 }
            // Spec B.4: bin v9 depth over [200, 490] mm (last layer at 483.95 plus its absorber).
            depth = 290
            moduleGap = 0
        case .v12:
            frontZ = 240.5
            layerZ = [7.850, 13.300, 26.400, 33.500, 47.950, 56.550, 72.250, 81.350, 97.050, 106.150, 121.850,
                      130.950, 146.650, 155.750, 171.450, 180.550, 196.250, 205.350, 221.050, 230.150, 245.850,
                      254.950, 270.650, 279.750, 298.950, 311.550, 330.750, 343.350, 362.550, 375.150, 394.350,
                      406.950, 426.150, 438.750].map { 240.5 + $0 }
            // ECal_dz of the v12 gdml.
            depth = 449.2
            moduleGap = 1.5
        }
        let distance = 2 * moduleMinR + moduleGap
        moduleCentreX = [0] + (0..<6).map { distance * sin(Double($0) * Double.pi / 3) }
        moduleCentreY = [0] + (0..<6).map { distance * cos(Double($0) * Double.pi / 3) }
    }

    public var layerCount: Int { layerZ.count }
    /// Module centre to corner (mm).
    public var moduleMaxR: Double { moduleMinR * 2 / 3.0.squareRoot() }
    /// Distance between the centre module's centre and its neighbours'.
    public var moduleDistance: Double { 2 * moduleMinR + moduleGap }
    /// The 7 module centres: 0 in the middle, 1 at 12 o'clock, then clockwise.
    public var moduleCentres: [(x: Double, y: Double)] { zip(moduleCentreX, moduleCentreY).map { ($0, $1) } }
    /// The module centres' coordinates, stored: every hit of every file is checked against them.
    private let moduleCentreX: [Double], moduleCentreY: [Double]

    /// Cell centre to corner (ldmx-sw `cellR`, ≈ 4.82 mm) and to flat side (`cellr`, ≈ 4.17 mm).
    public var cellMaxR: Double { 2 * moduleMinR / cellsPerModuleHeight }
    public var cellMinR: Double { cellMaxR * 3.0.squareRoot() / 2 }
    /// Lattice pitch across columns (x) and between rows (y).
    public var columnPitch: Double { 2 * cellMinR }
    public var rowPitch: Double { 1.5 * cellMaxR }

    /// Largest |x| and |y| of the modules (mm): the transverse extent images bin over.
    public var maximumX: Double { moduleDistance * sin(Double.pi / 3) + moduleMaxR }
    public var maximumY: Double { moduleDistance + moduleMinR }
    public var zRange: ClosedRange<Double> { frontZ...(frontZ + depth) }

    /// The module whose hexagon holds (x, y), nil outside all seven.
    public func module(x: Double, y: Double) -> Int? {
        for index in 0..<moduleCentreX.count {
            let dx = abs(x - moduleCentreX[index]), dy = abs(y - moduleCentreY[index])
            // Flat top and bottom: |dy| ≤ minR, and the four slanted sides (normals at ±30°).
            if dy <= moduleMinR && dx * 3.0.squareRoot() / 2 + dy / 2 <= moduleMinR { return index }
        }
        return nil
    }

    /// Lattice rows and columns of a layer: rows −rowHalfCount…rowHalfCount, columns
    /// −columnHalfCount…columnHalfCount (odd rows shifted by half a column).
    public var rowHalfCount: Int { Int((maximumY / rowPitch).rounded(.up)) }
    public var columnHalfCount: Int { Int((maximumX / columnPitch).rounded(.up)) }
    public var latticeRows: Int { 2 * rowHalfCount + 1 }
    public var latticeColumns: Int { 2 * columnHalfCount + 1 }

    /// Centre of lattice cell (row, column), both relative to the lattice centre.
    public func cellCentre(row: Int, column: Int) -> (x: Double, y: Double) {
        let shift = row & 1 == 0 ? 0 : cellMinR
        return (Double(column) * columnPitch + shift, Double(row) * rowPitch)
    }

    /// The lattice cell (row, column) whose hexagon holds (x, y): the nearest cell centre; nil
    /// for a point off the lattice (or not finite: hit coordinates come from files).
    public func nearestCell(x: Double, y: Double) -> (row: Int, column: Int)? {
        guard abs(y) <= Double(rowHalfCount + 1) * rowPitch, abs(x) <= Double(columnHalfCount + 1) * columnPitch + cellMinR else { return nil }
        let middle = Int((y / rowPitch).rounded())
        var best = (row: middle, column: 0), bestDistance = Double.infinity
        for row in (middle - 1)...(middle + 1) {
            let shift = row & 1 == 0 ? 0 : cellMinR
            let column = Int(((x - shift) / columnPitch).rounded())
            let centre = cellCentre(row: row, column: column)
            let distance = (centre.x - x) * (centre.x - x) + (centre.y - y) * (centre.y - y)
            if distance < bestDistance { best = (row, column); bestDistance = distance }
        }
        return best
    }

    /// Every cell of a layer: lattice cells whose centre lies in a module.
    public var cells: [(row: Int, column: Int, module: Int)] {
        var cells: [(row: Int, column: Int, module: Int)] = []
        for row in -rowHalfCount...rowHalfCount {
            for column in -columnHalfCount...columnHalfCount {
                let centre = cellCentre(row: row, column: column)
                if let owner = module(x: centre.x, y: centre.y) { cells.append((row, column, owner)) }
            }
        }
        return cells
    }

    /// The layer nearest to `z`.
    public func nearestLayer(z: Double) -> Int {
        var low = 0, high = layerZ.count - 1
        while low < high {
            let middle = (low + high) / 2
            if layerZ[middle] < z { low = middle + 1 } else { high = middle }
        }
        if low > 0 && abs(layerZ[low - 1] - z) <= abs(layerZ[low] - z) { return low - 1 }
        return low
    }

    /// Why a hit cannot be an ECal hit of this geometry; nil for a good one.
    public func defect(x: Float, y: Float, z: Float, energy: Float) -> HitDefect? {
        guard x.isFinite, y.isFinite, z.isFinite, energy.isFinite else { return .notFinite }
        guard zRange.contains(Double(z)), module(x: Double(x), y: Double(y)) != nil else { return .outsideGeometry }
        return nil
    }

    /// Sampling-fraction weights per layer of ldmx-sw's v3–v9 reconstruction (`ecalSim2Rec.py`),
    /// used here for v12 as well: the synthetic generator scales a MIP's deposit and the
    /// readout noise per layer with (1 + weight).
    public static let layerWeights: [Double] = [1.019, 1.707, 3.381, 5.022, 6.679, 8.060]
        + Array(repeating: 8.613, count: 17) + [12.480] + Array(repeating: 16.347, count: 9) + [8.334]
}

/// Why a hit was left out of a hit table.
public enum HitDefect: String, Sendable, Codable, CaseIterable {
    /// NaN or ±∞ in a coordinate or the energy.
    case notFinite
    /// Transversely outside the 7 modules, or in z outside the ECal.
    case outsideGeometry
}
