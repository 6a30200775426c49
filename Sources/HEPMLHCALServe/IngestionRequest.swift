import Foundation
import HEPMLColumnar
import HEPMLHCAL

/// The checks an ingestion request passes before it reaches the worker: path numbers, NumEvents,
/// and the map body (.npy or raw little-endian float32 with its shape in a header).
enum HCALIngestionRequest {
    static let npyContentType = "application/x-npy"
    static let rawContentType = "application/octet-stream"
    static let numEventsHeader = "X-HCAL-NumEvents"
    static let shapeHeader = "X-HCAL-Shape"
    /// Run numbers are positive and below 10⁹ (CMS runs are six digits); LS numbers 1…10⁶.
    static let runRange = 1...999_999_999
    static let lumisectionRange = 1...1_000_000

    static func number(_ text: String?, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let text, let value = Int(text), range.contains(value) else {
            throw HCALServeError(400, "\(name) must be an integer in \(range.lowerBound)…\(range.upperBound), got '\(text ?? "")'")
        }
        return value
    }

    static func numEvents(_ text: String?) throws -> Int {
        guard let text else { throw HCALServeError(400, "header \(numEventsHeader) (the LS's number of events) is required") }
        return try number(text.trimmingCharacters(in: .whitespaces), "header \(numEventsHeader)", in: 0...1_000_000_000)
    }

    /// The raw map `[64, 72, depths]` of a request body, checked against the model's shape and
    /// refused when no active channel holds a finite value.
    static func map(body: [UInt8], contentType: String?, shape shapeText: String?, mask: HCALMask) throws -> [Float] {
        let expected = [HCALIndex.etaCount, HCALIndex.phiCount, mask.depthCount]
        let media = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let values: [Float]
        switch media {
        case npyContentType:
            let array: NDArray
            do { array = try NPY.decode(body, file: "request body") } catch {
                throw HCALServeError(400, "the body is not a valid .npy file: \(error)")
            }
            guard array.shape == expected else { throw HCALServeError(400, "map of shape \(array.shape); the model takes \(expected)") }
            guard [.float32, .float64, .int32].contains(array.dtype) else {
                throw HCALServeError(400, "map of dtype \(array.dtype.rawValue); float32, float64 or int32 expected")
            }
            values = array.floatValues()
        case rawContentType:
            guard let shapeText else { throw HCALServeError(400, "a raw float32 body needs the header \(shapeHeader): 64,72,\(mask.depthCount)") }
            let shape = shapeText.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard shape == expected.map(Optional.some) else { throw HCALServeError(400, "\(shapeHeader) '\(shapeText)'; the model takes \(expected.map(String.init).joined(separator: ","))") }
            let count = expected.reduce(1, *)
            guard body.count == count * MemoryLayout<Float>.size else {
                throw HCALServeError(400, "a raw map of shape \(expected) is \(count * 4) bytes of float32, the body has \(body.count)")
            }
            values = body.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
        default:
            throw HCALServeError(415, "Content-Type must be \(npyContentType) or \(rawContentType) (with \(shapeHeader)), got '\(contentType ?? "")'")
        }
        guard zip(values, mask.active).contains(where: { $0.1 && $0.0.isFinite }) else {
            throw HCALServeError(400, "the map has no finite value on an active channel (NaN-only or empty)")
        }
        return values
    }
}
