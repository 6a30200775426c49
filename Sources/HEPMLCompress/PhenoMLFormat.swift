import Foundation
import HEPMLColumnar
import HEPMLCore

/// The PhenoML / DarkMachines event lines (spec A.3):
///
///     event ID; process ID; event weight; MET; METphi; obj1,E1,pt1,eta1,phi1; obj2,E2,pt2,eta2,phi2; ...
///
/// one event per line, energies and momenta in MeV. Unlike the upstream converter, which turns
/// every object into an independent sample and drops the events, the reader keeps the event
/// structure: the objects' `E, pt, eta, phi` are the compressed variables (float64, as text
/// holds them), and the event ID, process ID, weight, MET and METphi (per event) and the object
/// type (per object, `obj_type` with the codes of `objectTypes`) are kept losslessly.
public enum PhenoMLFormat {
    /// Object symbols and their codes in the `obj_type` column (their index).
    public static let objectTypes = ["j", "b", "e-", "e+", "m-", "m+", "g"]
    public static let variableNames = ["E", "pt", "eta", "phi"]

    /// A .csv/.txt file whose first non-empty line has `;` separators.
    static func detect(path: String) throws -> Bool {
        let lower = path.lowercased()
        guard lower.hasSuffix(".csv") || lower.hasSuffix(".txt") else { return false }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let head = String(decoding: (try handle.read(upToCount: 4096)) ?? Data(), as: UTF8.self)
        return head.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?.contains(";") ?? false
    }

    public static func read(path: String) throws -> ObjectData {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw FileFormatError(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        var eventIDs: [String?] = [], processIDs: [String?] = []
        var weights: [Double] = [], met: [Double] = [], metPhi: [Double] = []
        var values = [[Double]](repeating: [], count: 4)
        var types: [Int32] = []
        var offsets = [0]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: CharacterSet(charactersIn: ",\r\n "))
            if line.isEmpty { continue }
            func fail(_ reason: String) -> FileFormatError { FileFormatError(file: path, line: index + 1, reason: reason) }
            let fields = line.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 5 else { throw fail("an event line needs event ID; process ID; weight; MET; METphi") }
            func number(_ text: String, _ what: String) throws -> Double {
                guard let value = Double(text), value.isFinite else { throw fail("\(what) '\(text)' is not a finite number") }
                return value
            }
            eventIDs.append(fields[0])
            processIDs.append(fields[1])
            weights.append(try number(fields[2], "event weight"))
            met.append(try number(fields[3], "MET"))
            metPhi.append(try number(fields[4], "METphi"))
            for object in fields.dropFirst(5) where !object.isEmpty {
                let parts = object.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 5 else { throw fail("object '\(object)' needs type,E,pt,eta,phi") }
                guard let code = objectTypes.firstIndex(of: parts[0]) else {
                    throw fail("object type '\(parts[0])' is none of \(objectTypes.joined(separator: " "))")
                }
                types.append(Int32(code))
                for (variable, name) in variableNames.enumerated() {
                    values[variable].append(try number(parts[variable + 1], name))
                }
            }
            offsets.append(types.count)
        }
        let variables = zip(variableNames, values).map { ObjectVariable(name: $0, type: .float64, values: $1) }
        let kept = [
            try Column(name: "event_ID", strings: eventIDs), try Column(name: "process_ID", strings: processIDs),
            try Column(name: "event_weight", float64: weights), try Column(name: "MET", float64: met),
            try Column(name: "METphi", float64: metPhi),
            try Column(name: "obj_type", values: .int32(types), listOffsets: [offsets]),
        ]
        return ObjectData(variables: variables, eventOffsets: offsets, counterName: "nObject", kept: kept)
    }
}
