import Foundation
import HEPMLECONT
import HEPMLTestSupport

/// Test-only reader of the shared CALQ CSV files (the product reads them through HEPMLColumnar):
/// first 48 columns of every line after the header.
enum CalQTestData {
    static func load(_ name: String, for what: String) throws -> ModuleCharges? {
        guard let shared = TestEnvironment.sharedDirectory(for: what) else { return nil }
        let text = try String(contentsOf: shared.appendingPathComponent("data/econt/\(name)"), encoding: .utf8)
        var values: [Double] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).prefix(triggerCellCount)
            guard fields.count == triggerCellCount else { continue }
            values.append(contentsOf: fields.map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan })
        }
        return ModuleCharges(values: values)
    }

    /// One module with the given charges at the given CALQ indices.
    static func module(_ charges: [Int: Double]) -> [Double] {
        var values = [Double](repeating: 0, count: triggerCellCount)
        for (cell, charge) in charges { values[cell] = charge }
        return values
    }
}
