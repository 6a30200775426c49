import Foundation
import HEPMLECONT
import HEPMLTestSupport
import Testing

/// Test-only reader of the shared CALQ CSV files (the product reads them through HEPMLColumnar):
/// first 48 columns of every line after the header.
enum CalQTestData {
    /// A file of `../shared/data/econt/` (tests marked `.requiresShared`).
    static func load(_ name: String) throws -> ModuleCharges {
        let text = try String(contentsOf: try TestEnvironment.sharedDirectory().appendingPathComponent("data/econt/\(name)"), encoding: .utf8)
        var values: [Double] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).prefix(triggerCellCount)
            guard fields.count == triggerCellCount else { continue }
            values.append(contentsOf: fields.map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan })
        }
        return try #require(ModuleCharges(values: values))
    }

    /// One module with the given charges at the given CALQ indices.
    static func module(_ charges: [Int: Double]) -> [Double] {
        var values = [Double](repeating: 0, count: triggerCellCount)
        for (cell, charge) in charges { values[cell] = charge }
        return values
    }
}
