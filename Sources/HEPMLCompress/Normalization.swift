import Foundation
import HEPMLCore

/// One variable's invertible normalization (spec A.4). Every upstream formula is one of these
/// four shapes, with the exact algebraic inverse (upstream's un-normalizations of the ATLAS 4D
/// custom normalization, `10^(pt'·1.2) + 1.3` and `m = 10^m'`, are not inverses; these are).
public enum VariableTransform: Codable, Equatable, Sendable {
    case identity
    /// x' = (x − mean)/std, the statistics of the training split (pandas' ddof = 1).
    case standard(mean: Double, std: Double)
    /// x' = (x − minimum)/(maximum − minimum), onto [0, 1] over the training split.
    case minMax(minimum: Double, maximum: Double)
    /// x' = x/divisor − shift (η/5, φ/3, ActiveArea4vec_m/0.18 − 0.15).
    case affine(divisor: Double, shift: Double)
    /// x' = (log10(scale·x + add) − subtract)/divisor; defined where scale·x + add > 0
    /// (pT: scale 1, add 0, subtract 1.3, divisor 1.2; m: add 1, divisor 1.8; NegativeE: scale −1, add 1).
    case logarithmic(scale: Double, add: Double, subtract: Double, divisor: Double)

    @inline(__always)
    public func forward(_ x: Double) -> Double {
        switch self {
        case .identity: return x
        case .standard(let mean, let std): return (x - mean) / std
        case .minMax(let minimum, let maximum): return (x - minimum) / (maximum - minimum)
        case .affine(let divisor, let shift): return x / divisor - shift
        case .logarithmic(let scale, let add, let subtract, let divisor): return (log10(scale * x + add) - subtract) / divisor
        }
    }

    @inline(__always)
    public func inverse(_ y: Double) -> Double {
        switch self {
        case .identity: return y
        case .standard(let mean, let std): return y * std + mean
        case .minMax(let minimum, let maximum): return y * (maximum - minimum) + minimum
        case .affine(let divisor, let shift): return (y + shift) * divisor
        case .logarithmic(let scale, let add, let subtract, let divisor): return (Foundation.pow(10, divisor * y + subtract) - add) / scale
        }
    }

    /// Whether `x` lies where the transform is defined (a logarithm's argument is positive).
    @inline(__always)
    public func accepts(_ x: Double) -> Bool {
        if case .logarithmic(let scale, let add, _, _) = self { return scale * x + add > 0 }
        return true
    }

    /// The formula, for reports and `compress info`.
    public var formula: String {
        func number(_ value: Double) -> String { String(format: "%g", value) }
        func offset(_ value: Double) -> String { value < 0 ? "+ \(number(-value))" : "− \(number(value))" }
        switch self {
        case .identity: return "x"
        case .standard(let mean, let std): return "(x \(offset(mean)))/\(number(std))"
        case .minMax(let minimum, let maximum): return "(x \(offset(minimum)))/\(number(maximum - minimum))"
        case .affine(let divisor, let shift): return shift == 0 ? "x/\(number(divisor))" : "x/\(number(divisor)) − \(number(shift))"
        case .logarithmic(let scale, let add, let subtract, let divisor):
            let inner = (scale == 1 ? "x" : scale == -1 ? "−x" : "\(number(scale))·x") + (add == 0 ? "" : " + \(number(add))")
            return subtract == 0 ? "log10(\(inner))/\(number(divisor))" : "(log10(\(inner)) − \(number(subtract)))/\(number(divisor))"
        }
    }
}

/// The named normalizations of the spec (A.4), chosen with `--normalization`.
public enum NormalizationScheme: String, Codable, Sendable, CaseIterable {
    case none
    /// z-score with the training split's mean and standard deviation (ddof = 1).
    case standard
    /// onto [0, 1] with the training split's minimum and maximum.
    case minmax
    /// Wulff's "log normalization": pT' = log10(pT)/3, E' = log10(E)/3, others x/3 (GeV).
    case log
    /// ATLAS 4D custom normalization (GeV): η/5, φ/3, m' = log10(m + 1)/1.8, pT' = (log10 pT − 1.3)/1.2.
    case atlas4D = "custom-atlas-4d"
    /// PhenoML/DarkMachines 4D (MeV in the file): E' = log10(E/1000), pT' = log10(pT/1000), η/5, φ/3.
    case phenoML4D = "custom-phenoml-4d"
    /// The 27 ATLAS jet variables' custom normalization (A.4 (e)), inputs in GeV.
    case atlas27D = "custom-27d"

    /// One transform per variable; `standard` and `minmax` are fitted on `rows` (the training
    /// split). A variable a fixed scheme has no formula for is an error naming it.
    public func transforms(for variables: [ObjectVariable], rows: [Int]) throws -> [VariableTransform] {
        try variables.map { variable -> VariableTransform in
            let kind = VariableKind(variable.name)
            switch self {
            case .none: return .identity
            case .standard:
                let n = Double(rows.count)
                guard rows.count > 1 else { throw NormalizationError(variable: variable.name, reason: "a standard normalization needs two or more training objects") }
                let mean = rows.reduce(0) { $0 + variable.values[$1] } / n
                let variance = rows.reduce(0) { $0 + (variable.values[$1] - mean) * (variable.values[$1] - mean) } / (n - 1)
                guard variance > 0 else { throw NormalizationError(variable: variable.name, reason: "is constant over the training objects; its standard deviation is 0") }
                return .standard(mean: mean, std: variance.squareRoot())
            case .minmax:
                let values = rows.map { variable.values[$0] }
                guard let minimum = values.min(), let maximum = values.max(), maximum > minimum else {
                    throw NormalizationError(variable: variable.name, reason: "is constant over the training objects; min-max scaling needs a range")
                }
                return .minMax(minimum: minimum, maximum: maximum)
            case .log:
                switch kind {
                case .pt, .energy: return .logarithmic(scale: 1, add: 0, subtract: 0, divisor: 3)
                default: return .affine(divisor: 3, shift: 0)
                }
            case .atlas4D:
                switch kind {
                case .eta: return .affine(divisor: 5, shift: 0)
                case .phi: return .affine(divisor: 3, shift: 0)
                case .mass: return .logarithmic(scale: 1, add: 1, subtract: 0, divisor: 1.8)
                case .pt: return .logarithmic(scale: 1, add: 0, subtract: 1.3, divisor: 1.2)
                default: throw NormalizationError(variable: variable.name, reason: "has no formula in \(rawValue) (pt, eta, phi, m)")
                }
            case .phenoML4D:
                switch kind {
                case .energy, .pt: return .logarithmic(scale: 1e-3, add: 0, subtract: 0, divisor: 1)
                case .eta: return .affine(divisor: 5, shift: 0)
                case .phi: return .affine(divisor: 3, shift: 0)
                default: throw NormalizationError(variable: variable.name, reason: "has no formula in \(rawValue) (E, pt, eta, phi)")
                }
            case .atlas27D:
                guard let transform = Self.atlas27DTransforms[kind.name] else {
                    throw NormalizationError(variable: variable.name, reason: "has no formula in \(rawValue) (the 27 ATLAS jet variables)")
                }
                return transform
            }
        }
    }

    /// A.4 (e), by the canonical 27D variable name.
    static let atlas27DTransforms: [String: VariableTransform] = {
        func log(_ add: Double, _ subtract: Double, _ divisor: Double, scale: Double = 1) -> VariableTransform {
            .logarithmic(scale: scale, add: add, subtract: subtract, divisor: divisor)
        }
        func divide(_ divisor: Double, shift: Double = 0) -> VariableTransform { .affine(divisor: divisor, shift: shift) }
        return [
            "pt": log(0, 1.3, 1.2), "eta": divide(5), "phi": divide(3), "m": log(1, 0, 1.8),
            "ActiveArea": divide(0.8), "ActiveArea4vec_eta": divide(5), "ActiveArea4vec_m": divide(0.18, shift: 0.15),
            "ActiveArea4vec_phi": divide(3), "ActiveArea4vec_pt": divide(0.7),
            "AverageLArQF": log(100, 2, 2.5), "NegativeE": log(1, 0, 1.6, scale: -1), "HECQuality": divide(1), "LArQuality": divide(0.6),
            "Width": divide(0.6), "WidthPhi": divide(0.6), "CentroidR": log(0, 3, 0.8), "DetectorEta": divide(5),
            "LeadingClusterCenterLambda": log(100, 2, 2), "LeadingClusterPt": log(0, 0, 1.2),
            "LeadingClusterSecondLambda": log(100, 2, 1), "LeadingClusterSecondR": log(100, 2, 0.6), "N90Constituents": divide(20),
            "EMFrac": divide(1.6), "HECFrac": .identity, "Timing": divide(40), "OotFracClusters10": log(1, 0, 0.3),
            "OotFracClusters5": log(1, 0, 0.3),
        ]
    }()
}

/// What a variable is, from its branch name: the part after the last "." (ATLAS `…AuxDyn.pt`)
/// when that is one of the 27 ATLAS names, else the part after the last "_" or "." (`Jet_pt`,
/// `Jet_mass`, `Jet_E`), case-insensitively for the 4-vector names.
public enum VariableKind: Equatable, Sendable {
    case pt, eta, phi, mass, energy
    case other(String)

    public init(_ branch: String) {
        let afterDot = branch.split(separator: ".").last.map(String.init) ?? branch
        if NormalizationScheme.atlas27DTransforms[afterDot] != nil, !["pt", "eta", "phi", "m"].contains(afterDot) {
            self = .other(afterDot)
            return
        }
        let short = afterDot.split(separator: "_").last.map(String.init) ?? afterDot
        switch short.lowercased() {
        case "pt", "pt1": self = .pt
        case "eta": self = .eta
        case "phi": self = .phi
        case "m", "mass": self = .mass
        case "e", "energy": self = .energy
        default: self = .other(short)
        }
    }

    /// The canonical name (A.2's spelling).
    public var name: String {
        switch self {
        case .pt: return "pt"
        case .eta: return "eta"
        case .phi: return "phi"
        case .mass: return "m"
        case .energy: return "E"
        case .other(let name): return name
        }
    }

    /// pT, E and m (and the leading cluster's pT) are compared relatively, (out − in)/in; angles and
    /// the other variables absolutely, out − in (the newer upstream scripts, A.8).
    public var comparesRelatively: Bool {
        switch self {
        case .pt, .mass, .energy: return true
        case .eta, .phi: return false
        case .other(let name): return name == "LeadingClusterPt"
        }
    }
}

public struct NormalizationError: Error, CustomStringConvertible {
    public var file: String?
    public var variable: String
    public var reason: String

    public init(file: String? = nil, variable: String, reason: String) {
        self.file = file
        self.variable = variable
        self.reason = reason
    }

    public var description: String { (file.map { "\($0): " } ?? "") + "variable \(variable) \(reason)" }
}

/// The per-variable transforms of one model, applied to whole data sets.
public struct Normalization: Codable, Equatable, Sendable {
    public var scheme: NormalizationScheme
    public var transforms: [VariableTransform]

    public init(scheme: NormalizationScheme, transforms: [VariableTransform]) {
        self.scheme = scheme
        self.transforms = transforms
    }

    /// Normalized row-major `objects × variables` Float matrix of `data`. A value outside a
    /// transform's domain (zero or negative mass under a logarithm) is an error naming `file`,
    /// the variable and the object.
    public func normalized(_ data: ObjectData, file: String) throws -> [Float] {
        let width = data.variables.count, rows = data.objectCount
        guard width == transforms.count else {
            throw NormalizationError(file: file, variable: data.variableNames.joined(separator: ","),
                                     reason: "count \(width) differs from the model's \(transforms.count) variables")
        }
        var out = [Float](repeating: 0, count: rows * width)
        for (column, (variable, transform)) in zip(data.variables, transforms).enumerated() {
            if let bad = variable.values.firstIndex(where: { !transform.accepts($0) }) {
                throw NormalizationError(file: file, variable: variable.name,
                                         reason: "object \(bad) is \(variable.values[bad]), outside the domain of \(transform.formula) (filter such objects first)")
            }
            out.withUnsafeMutableBufferPointer { out in
                variable.values.withUnsafeBufferPointer { values in
                    guard let out = out.baseAddress, let values = values.baseAddress else { return }
                    // Elementwise (a logarithm per value for log transforms): split over cores.
                    Parallel.forEachChunk(rows, minimumChunk: 1 << 15) { range in
                        for row in range { out[row * width + column] = Float(transform.forward(values[row])) }
                    }
                }
            }
        }
        return out
    }
}
