import Foundation
import HEPMLCore
import HEPMLTensor

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// mapping each tensor name to its dtype, shape and byte range, then the raw little-endian data.
/// Readable by Python's `safetensors` and by PyTorch (`safetensors.torch.load_file`).
public enum SafeTensors {
    /// Writes tensors (F32 for Float, F64 for Double) in name order, atomically.
    public static func write<T: TensorScalar>(_ tensors: [(String, Tensor<T>)], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: path)
    }

    /// The bytes of a safetensors file, for containers that embed one (the compressed event files).
    public static func encode<T: TensorScalar>(_ tensors: [(String, Tensor<T>)], metadata: [String: String] = [:]) throws -> [UInt8] {
        let dtype = T.self == Float.self ? "F32" : "F64"
        let width = MemoryLayout<T>.size
        let ordered = tensors.sorted { $0.0 < $1.0 }
        var header: [String: Any] = [:]
        var offset = 0
        for (name, tensor) in ordered {
            header[name] = ["dtype": dtype, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.count * width]] as [String: Any]
            offset += tensor.count * width
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        for (_, tensor) in ordered {
            for value in tensor.scalars {
                if let float = value as? Float {
                    withUnsafeBytes(of: float.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                } else {
                    withUnsafeBytes(of: Double(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                }
            }
        }
        return bytes
    }

    /// Reads every tensor, converting F32/F64 data to `T`. The header is untrusted: sizes,
    /// shapes and byte ranges are all checked against the file.
    public static func read<T: TensorScalar>(_ path: String, as: T.Type = T.self) throws -> (tensors: [String: Tensor<T>], metadata: [String: String]) {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw FileFormatError(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(bytes, file: path)
    }

    /// Reads the tensors of safetensors bytes; `file` names them in errors.
    public static func decode<T: TensorScalar>(_ bytes: [UInt8], file path: String, as: T.Type = T.self) throws -> (tensors: [String: Tensor<T>], metadata: [String: String]) {
        var reader = ByteReader(bytes, file: path, object: "header")
        let headerLength = try reader.readUInt64(bigEndian: false)
        guard headerLength <= UInt64(reader.remaining), headerLength <= 100 << 20 else {
            throw reader.error("header length \(headerLength) exceeds the file", at: 0)
        }
        let headerBytes = try reader.readBytes(Int(headerLength))
        let dataStart = reader.position
        let dataSize = bytes.count - dataStart
        guard let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            throw FileFormatError(file: path, object: "header", offset: 8, reason: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [String: Tensor<T>] = [:]
        for (name, entry) in header {
            if name == "__metadata__" {
                guard let values = entry as? [String: String] else {
                    throw FileFormatError(file: path, object: name, offset: 8, reason: "metadata must map strings to strings")
                }
                metadata = values
                continue
            }
            func fail(_ reason: String) -> FileFormatError { FileFormatError(file: path, object: name, offset: 8, reason: reason) }
            guard let fields = entry as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("entry needs dtype, shape and two data_offsets")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F64": width = 8
            default: throw fail("unsupported dtype \(dtype) (F32 and F64 are read)")
            }
            var count = 1
            for size in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard size >= 0, !overflow else { throw fail("invalid shape \(shape)") }
                count = product
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize, end - begin == count * width, count <= dataSize / width else {
                throw FileFormatError(file: path, object: name, offset: dataStart + max(begin, 0),
                                      reason: "byte range \(begin)..<\(end) does not hold \(dtype) \(shape) inside \(dataSize) data bytes")
            }
            var scalars = [T](repeating: 0, count: count)
            bytes.withUnsafeBytes { raw in
                let base = dataStart + begin
                for i in 0..<count {
                    if width == 4 {
                        scalars[i] = T(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self))))
                    } else {
                        scalars[i] = T(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self))))
                    }
                }
            }
            tensors[name] = try Tensor(shape: shape, scalars: scalars)
        }
        return (tensors, metadata)
    }
}
