import Foundation

/// The jet quality filters of spec A.5, applied to the training objects (`compress train
/// --filter`); compression itself keeps every object, so that the event structure round-trips.
public enum JetFilter: Sendable, Equatable, Codable {
    /// `filter_jets`: the ATLAS 27D cleaning cuts (inputs already in GeV).
    case atlas27D
    /// `filter_mc_jets`: the stricter MC-jet cuts.
    case mcJets
    /// m > threshold (GeV): what a logarithm of the mass needs (1e-3 in the 27D analysis).
    case minimumMass(Double)

    /// `atlas-27d`, `mc-jets` or `min-mass=VALUE`.
    public init(parsing text: String) throws {
        switch text {
        case "atlas-27d": self = .atlas27D
        case "mc-jets": self = .mcJets
        default:
            guard text.hasPrefix("min-mass="), let value = Double(text.dropFirst("min-mass=".count)) else {
                throw NormalizationError(variable: "--filter", reason: "'\(text)' is none of atlas-27d, mc-jets, min-mass=VALUE")
            }
            self = .minimumMass(value)
        }
    }

    /// Which objects pass. A variable the filter needs and the data lack is an error naming it.
    public func passing(_ data: ObjectData) throws -> [Bool] {
        var columns: [String: [Double]] = [:]
        for variable in data.variables { columns[VariableKind(variable.name).name] = variable.values }
        func column(_ name: String) throws -> [Double] {
            guard let values = columns[name] else {
                throw NormalizationError(variable: name, reason: "is needed by the filter \(self) but is not among \(data.variableNames.joined(separator: ", "))")
            }
            return values
        }
        let count = data.objectCount
        switch self {
        case .minimumMass(let threshold):
            let mass = try column("m")
            return mass.map { $0 > threshold }
        case .atlas27D, .mcJets:
            let (emFrac, eta, larqf, larq, hecq, hecFrac) = try (column("EMFrac"), column("eta"), column("AverageLArQF"),
                                                                 column("LArQuality"), column("HECQuality"), column("HECFrac"))
            let (negE, oot10, oot5, width, widthPhi, timing) = try (column("NegativeE"), column("OotFracClusters10"),
                                                                    column("OotFracClusters5"), column("Width"), column("WidthPhi"),
                                                                    column("Timing"))
            let mass: [Double] = try self == .mcJets ? column("m") : []
            return (0..<count).map { i in
                if self == .mcJets {
                    return abs(emFrac[i]) < 2 && abs(negE[i]) < 60 && width[i] < 100 && abs(timing[i]) < 120 && larq[i] < 2 && mass[i] > 1e-3
                }
                guard abs(emFrac[i]) < 5, !(abs(emFrac[i]) < 0.05 && abs(eta[i]) >= 2) else { return false }
                guard !(larqf[i] > 0.8 && emFrac[i] > 0.95 && larq[i] > 0.8 && abs(eta[i]) < 2.8), abs(negE[i]) < 300 else { return false }
                guard !(larqf[i] > 0.8 && abs(hecq[i]) > 0.5 && abs(hecFrac[i]) > 0.5) else { return false }
                guard oot10[i] > -0.1, oot5[i] > -0.1, abs(width[i]) < 5, width[i] != -1, abs(widthPhi[i]) < 5 else { return false }
                return abs(timing[i]) < 125 && larq[i] < 4 && abs(hecq[i]) < 2.5
            }
        }
    }
}
