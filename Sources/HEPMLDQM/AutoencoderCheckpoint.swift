import Foundation
import HEPMLCore
import HEPMLTensor

/// Autoencoder weights in the safetensors format (8-byte little-endian header length, a JSON
/// header of `name → {dtype, shape, data_offsets}` plus string `__metadata__`, then the raw
/// little-endian tensors), readable with `safetensors.numpy.load_file`. The engine has no
/// checkpoint format yet; this is the one the architecture document names for it.
public enum AutoencoderCheckpoint {
    /// Writes `state` (F32) and `metadata` atomically.
    public static func write(state: [(String, Tensor<Float>)], metadata: [String: String], to path: String) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for (name, tensor) in state {
            let size = tensor.count * 4
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + size]] as [String: Any]
            offset += size
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Padding with spaces keeps the data 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        for (_, tensor) in state {
            for value in tensor.scalars {
                var bits = value.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
            }
        }
        try AtomicFile.write(bytes, to: path)
    }

    /// Reads an F32 safetensors file; every offset and shape is checked against the file size.
    public static func read(path: String) throws -> (state: [String: Tensor<Float>], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileFormatError(file: path, reason: "cannot read the file")
        }
        let bytes = [UInt8](data)
        var reader = ByteReader(bytes, file: path, object: "safetensors header")
        let headerLength = Int(clamping: try reader.readUInt64(bigEndian: false))
        guard headerLength <= bytes.count - 8 else { throw reader.error("header length \(headerLength) exceeds the file") }
        let dataStart = 8 + headerLength
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
            throw FileFormatError(file: path, object: "safetensors header", offset: 8, reason: "the header is not a JSON object")
        }
        var state: [String: Tensor<Float>] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], entry["dtype"] as? String == "F32",
                  let shape = entry["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }),
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bytes.count - dataStart
            else {
                throw FileFormatError(file: path, object: name, offset: 8, reason: "not an F32 tensor entry with valid offsets")
            }
            let (count, overflow) = shape.reduce((1, false)) { partial, dimension in
                let product = partial.0.multipliedReportingOverflow(by: dimension)
                return (product.partialValue, partial.1 || product.overflow)
            }
            guard !overflow, count * 4 == offsets[1] - offsets[0] else {
                throw FileFormatError(file: path, object: name, offset: dataStart + offsets[0], reason: "shape \(shape) does not match \(offsets[1] - offsets[0]) bytes")
            }
            var tensorReader = ByteReader(bytes, file: path, object: name)
            try tensorReader.seek(to: dataStart + offsets[0])
            var scalars = [Float](repeating: 0, count: count)
            for index in 0..<count { scalars[index] = try tensorReader.readFloat32(bigEndian: false) }
            state[name] = try Tensor(shape: shape, scalars: scalars)
        }
        return (state, metadata)
    }
}
