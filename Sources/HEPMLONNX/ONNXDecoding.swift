import Foundation
import HEPMLCore

/// Reading ONNX files back: the inverse of the writer for the same subset. Unknown fields are
/// skipped (as protobuf requires); unsupported tensor or attribute kinds are errors naming the
/// file, object and byte offset.
extension ONNXModel {
    public init(contentsOf path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try self.init(decoding: [UInt8](data), file: path)
    }

    public init(decoding bytes: [UInt8], file: String) throws {
        var reader = ProtobufReader(bytes, file: file, object: "ModelProto")
        var irVersion: Int64 = 0, opsetVersion: Int64 = 0
        var producerName = "", producerVersion = "", documentation = ""
        var graph: ONNXGraph?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: irVersion = try field.int64(reader)
            case 2: producerName = try field.string(reader)
            case 3: producerVersion = try field.string(reader)
            case 6: documentation = try field.string(reader)
            case 7: graph = try ONNXGraph(reader.nested(try field.payload(reader), of: field, object: "GraphProto"))
            case 8:
                var opset = reader.nested(try field.payload(reader), of: field, object: "OperatorSetIdProto")
                var domain = "", version: Int64 = 0
                while let opsetField = try opset.nextField() {
                    switch opsetField.number {
                    case 1: domain = try opsetField.string(opset)
                    case 2: version = try opsetField.int64(opset)
                    default: continue
                    }
                }
                if domain.isEmpty || domain == "ai.onnx" { opsetVersion = version }
            default: continue
            }
        }
        guard let graph else { throw reader.error("model has no graph", at: 0) }
        self.init(graph: graph, irVersion: irVersion, opsetVersion: opsetVersion, producerName: producerName,
                  producerVersion: producerVersion, documentation: documentation)
    }
}

extension ProtobufField {
    func int64(_ reader: ProtobufReader) throws -> Int64 {
        guard case .varint(let raw) = value else { throw reader.error("field \(number) is not a varint", at: offset) }
        return Int64(bitPattern: raw)
    }

    func payload(_ reader: ProtobufReader) throws -> [UInt8] {
        guard case .bytes(let bytes) = value else { throw reader.error("field \(number) is not length-delimited", at: offset) }
        return bytes
    }

    func string(_ reader: ProtobufReader) throws -> String {
        String(decoding: try payload(reader), as: UTF8.self)
    }

    func float(_ reader: ProtobufReader) throws -> Float {
        guard case .fixed32(let raw) = value else { throw reader.error("field \(number) is not a 32-bit float", at: offset) }
        return Float(bitPattern: raw)
    }

    /// Repeated int64 values: packed (one length-delimited run) or a single unpacked varint.
    func int64s(_ reader: ProtobufReader) throws -> [Int64] {
        switch value {
        case .varint(let raw): return [Int64(bitPattern: raw)]
        case .bytes(let bytes):
            var packed = reader.nested(bytes, of: self, object: "packed int64")
            var values: [Int64] = []
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.readVarint())) }
            return values
        default: throw reader.error("field \(number) is not a repeated integer", at: offset)
        }
    }

    /// Repeated floats: packed or a single unpacked fixed32.
    func floats(_ reader: ProtobufReader) throws -> [Float] {
        switch value {
        case .fixed32(let raw): return [Float(bitPattern: raw)]
        case .bytes(let bytes):
            guard bytes.count % 4 == 0 else { throw reader.error("packed floats of \(bytes.count) bytes", at: offset) }
            return stride(from: 0, to: bytes.count, by: 4).map { start in
                Float(bitPattern: UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]) << 16 | UInt32(bytes[start + 3]) << 24)
            }
        default: throw reader.error("field \(number) is not a repeated float", at: offset)
        }
    }
}

extension ONNXGraph {
    init(_ source: ProtobufReader) throws {
        var reader = source
        var name = ""
        var nodes: [ONNXNode] = [], initializers: [ONNXTensor] = []
        var inputs: [ONNXValueInfo] = [], outputs: [ONNXValueInfo] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 1: nodes.append(try ONNXNode(reader.nested(try field.payload(reader), of: field, object: "NodeProto")))
            case 2: name = try field.string(reader)
            case 5: initializers.append(try ONNXTensor(reader.nested(try field.payload(reader), of: field, object: "TensorProto")))
            case 11: inputs.append(try ONNXValueInfo(reader.nested(try field.payload(reader), of: field, object: "ValueInfoProto")))
            case 12: outputs.append(try ONNXValueInfo(reader.nested(try field.payload(reader), of: field, object: "ValueInfoProto")))
            default: continue
            }
        }
        self.init(name: name, nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs)
    }
}

extension ONNXNode {
    init(_ source: ProtobufReader) throws {
        var reader = source
        var opType = "", name = ""
        var inputs: [String] = [], outputs: [String] = [], attributes: [ONNXAttribute] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 1: inputs.append(try field.string(reader))
            case 2: outputs.append(try field.string(reader))
            case 3: name = try field.string(reader)
            case 4: opType = try field.string(reader)
            case 5: attributes.append(try ONNXAttribute(reader.nested(try field.payload(reader), of: field, object: "AttributeProto")))
            default: continue
            }
        }
        self.init(opType: opType, name: name, inputs: inputs, outputs: outputs, attributes: attributes)
    }
}

extension ONNXAttribute {
    init(_ source: ProtobufReader) throws {
        var reader = source
        var name = ""
        var type: Int64 = 0
        var float: Float = 0, int: Int64 = 0, string = ""
        var floats: [Float] = [], ints: [Int64] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try field.string(reader)
            case 2: float = try field.float(reader)
            case 3: int = try field.int64(reader)
            case 4: string = try field.string(reader)
            case 7: floats += try field.floats(reader)
            case 8: ints += try field.int64s(reader)
            case 20: type = try field.int64(reader)
            default: continue
            }
        }
        switch type {
        case 1: self.init(name, .float(float))
        case 2: self.init(name, .int(int))
        case 3: self.init(name, .string(string))
        case 6: self.init(name, .floats(floats))
        case 7: self.init(name, .ints(ints))
        default: throw reader.error("attribute \(name) has unsupported type \(type)", at: 0)
        }
    }
}

extension ONNXTensor {
    init(_ source: ProtobufReader) throws {
        var reader = source
        var name = ""
        var dimensions: [Int64] = [], floats: [Float] = [], ints: [Int64] = []
        var type: Int64 = 0
        var raw: [UInt8]?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: dimensions += try field.int64s(reader)
            case 2: type = try field.int64(reader)
            case 4: floats += try field.floats(reader)
            case 7: ints += try field.int64s(reader)
            case 8: name = try field.string(reader)
            case 9: raw = try field.payload(reader)
            default: continue
            }
        }
        guard dimensions.allSatisfy({ $0 >= 0 }) else { throw reader.error("tensor \(name) has a negative dimension", at: 0) }
        let (count, overflow) = dimensions.reduce((Int64(1), false)) { partial, dimension in
            let product = partial.0.multipliedReportingOverflow(by: dimension)
            return (product.partialValue, partial.1 || product.overflow)
        }
        switch type {
        case ONNXElementType.float.rawValue:
            if let raw {
                guard raw.count % 4 == 0 else { throw reader.error("tensor \(name) raw data of \(raw.count) bytes", at: 0) }
                floats = stride(from: 0, to: raw.count, by: 4).map { start in
                    Float(bitPattern: UInt32(raw[start]) | UInt32(raw[start + 1]) << 8 | UInt32(raw[start + 2]) << 16 | UInt32(raw[start + 3]) << 24)
                }
            }
            guard !overflow, Int64(floats.count) == count else { throw reader.error("tensor \(name): \(floats.count) values for shape \(dimensions)", at: 0) }
            self.init(name: name, dimensions: dimensions, data: .float(floats))
        case ONNXElementType.int64.rawValue:
            if let raw {
                guard raw.count % 8 == 0 else { throw reader.error("tensor \(name) raw data of \(raw.count) bytes", at: 0) }
                ints = stride(from: 0, to: raw.count, by: 8).map { start in
                    Int64(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(raw[start + $1]) << UInt64(8 * $1) })
                }
            }
            guard !overflow, Int64(ints.count) == count else { throw reader.error("tensor \(name): \(ints.count) values for shape \(dimensions)", at: 0) }
            self.init(name: name, dimensions: dimensions, data: .int64(ints))
        default:
            throw reader.error("tensor \(name) has unsupported element type \(type)", at: 0)
        }
    }
}

extension ONNXValueInfo {
    init(_ source: ProtobufReader) throws {
        var reader = source
        var name = ""
        var elementType = ONNXElementType.float
        var shape: [ONNXDimension] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try field.string(reader)
            case 2:
                var type = reader.nested(try field.payload(reader), of: field, object: "TypeProto")
                while let typeField = try type.nextField() {
                    guard typeField.number == 1 else { continue }
                    var tensor = type.nested(try typeField.payload(type), of: typeField, object: "TypeProto.Tensor")
                    while let tensorField = try tensor.nextField() {
                        switch tensorField.number {
                        case 1:
                            let code = try tensorField.int64(tensor)
                            guard let known = ONNXElementType(rawValue: code) else {
                                throw tensor.error("value \(name) has unsupported element type \(code)", at: tensorField.offset)
                            }
                            elementType = known
                        case 2:
                            var shapeReader = tensor.nested(try tensorField.payload(tensor), of: tensorField, object: "TensorShapeProto")
                            while let dimensionField = try shapeReader.nextField() {
                                guard dimensionField.number == 1 else { continue }
                                var dimension = shapeReader.nested(try dimensionField.payload(shapeReader), of: dimensionField, object: "Dimension")
                                var parsed = ONNXDimension.symbolic("")
                                while let valueField = try dimension.nextField() {
                                    if valueField.number == 1 { parsed = .fixed(try valueField.int64(dimension)) }
                                    if valueField.number == 2 { parsed = .symbolic(try valueField.string(dimension)) }
                                }
                                shape.append(parsed)
                            }
                        default: continue
                        }
                    }
                }
            default: continue
            }
        }
        self.init(name: name, elementType: elementType, shape: shape)
    }
}
