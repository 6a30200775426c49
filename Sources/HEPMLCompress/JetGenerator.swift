import Foundation
import HEPMLCore

/// A seeded, physically shaped jet sample in NanoAOD's layout (`nJet`, `Jet_pt`, `Jet_eta`,
/// `Jet_phi`, `Jet_mass`, float32, GeV): Poisson jet multiplicity (some events without jets),
/// steeply falling pT (a power law pT⁻⁵ above 20 GeV), η normal with σ 1.6 within |η| < 4.7, φ
/// uniform, and a mass that grows with pT (m ≈ pT·(0.08 + 0.04·|N(0,1)|) + 2·U GeV); jets sorted
/// by falling pT within each event, so the first is the leading jet.
public enum JetGenerator {
    public static let variableNames = ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"]

    public static func generate(events: Int, meanJets: Double = 4, seed: UInt64) -> ObjectData {
        var generator = SeededGenerator(seed: seed, stream: 0x1E75)
        var offsets = [0]
        offsets.reserveCapacity(events + 1)
        var columns = [[Double]](repeating: [], count: 4)
        for _ in 0..<events {
            let count = generator.nextPoisson(mean: meanJets)
            var jets: [(Double, Double, Double, Double)] = []
            for _ in 0..<count {
                let pt = min(20 * Foundation.pow(1 - generator.nextUniform(), -0.25), 3000)
                var eta = 1.6 * generator.nextNormal()
                while abs(eta) >= 4.7 { eta = 1.6 * generator.nextNormal() }
                let phi = Double.pi * (2 * generator.nextUniform() - 1)
                let mass = pt * (0.08 + 0.04 * abs(generator.nextNormal())) + 2 * generator.nextUniform()
                jets.append((pt, eta, phi, mass))
            }
            for jet in jets.sorted(by: { $0.0 > $1.0 }) {
                columns[0].append(Double(Float(jet.0)))
                columns[1].append(Double(Float(jet.1)))
                columns[2].append(Double(Float(jet.2)))
                columns[3].append(Double(Float(jet.3)))
            }
            offsets.append(columns[0].count)
        }
        let variables = zip(variableNames, columns).map { ObjectVariable(name: $0, type: .float32, values: $1) }
        return ObjectData(variables: variables, eventOffsets: offsets, counterName: "nJet")
    }
}
