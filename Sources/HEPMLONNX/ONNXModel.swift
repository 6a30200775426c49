import HEPMLCore

/// The subset of the ONNX IR (onnx.proto) needed to describe feed-forward networks, with its
/// protobuf encoding and decoding. Field numbers follow onnx.proto.

/// Tensor element types (`TensorProto.DataType`).
public enum ONNXElementType: Int64, Sendable {
    case float = 1
    case int64 = 7
}

/// A constant tensor (`TensorProto`): float or int64 data, stored as packed fields.
public struct ONNXTensor: Sendable, Equatable {
    public enum Data: Sendable, Equatable {
        case float([Float])
        case int64([Int64])
    }

    public var name: String
    public var dimensions: [Int64]
    public var data: Data

    public init(name: String, dimensions: [Int64], data: Data) {
        self.name = name
        self.dimensions = dimensions
        self.data = data
    }

    public var elementType: ONNXElementType {
        switch data {
        case .float: return .float
        case .int64: return .int64
        }
    }

    func encoded() -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.packedInts(1, dimensions)
        writer.int(2, elementType.rawValue)
        switch data {
        case .float(let values): writer.packedFloats(4, values)
        case .int64(let values): writer.packedInts(7, values)
        }
        writer.string(8, name)
        return writer
    }
}

/// One dimension of a declared shape: a fixed size or a named symbolic size (e.g. the batch).
public enum ONNXDimension: Sendable, Equatable {
    case fixed(Int64)
    case symbolic(String)
}

/// A graph input or output with its element type and shape (`ValueInfoProto`).
public struct ONNXValueInfo: Sendable, Equatable {
    public var name: String
    public var elementType: ONNXElementType
    public var shape: [ONNXDimension]

    public init(name: String, elementType: ONNXElementType = .float, shape: [ONNXDimension]) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }

    func encoded() -> ProtobufWriter {
        var shapeWriter = ProtobufWriter()
        for dimension in shape {
            var dimensionWriter = ProtobufWriter()
            switch dimension {
            case .fixed(let size): dimensionWriter.int(1, size)
            case .symbolic(let symbol): dimensionWriter.string(2, symbol)
            }
            shapeWriter.message(1, dimensionWriter)
        }
        var tensorType = ProtobufWriter()
        tensorType.int(1, elementType.rawValue)
        tensorType.message(2, shapeWriter)
        var type = ProtobufWriter()
        type.message(1, tensorType)
        var writer = ProtobufWriter()
        writer.string(1, name)
        writer.message(2, type)
        return writer
    }
}

/// A node attribute (`AttributeProto`) of the kinds operators of this writer use.
public struct ONNXAttribute: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case float(Float)
        case int(Int64)
        case string(String)
        case floats([Float])
        case ints([Int64])
    }

    public var name: String
    public var value: Value

    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }

    func encoded() -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        switch value {
        case .float(let number):
            writer.float(2, number)
            writer.int(20, 1)
        case .int(let number):
            writer.int(3, number)
            writer.int(20, 2)
        case .string(let text):
            writer.string(4, text)
            writer.int(20, 3)
        case .floats(let numbers):
            writer.packedFloats(7, numbers)
            writer.int(20, 6)
        case .ints(let numbers):
            writer.packedInts(8, numbers)
            writer.int(20, 7)
        }
        return writer
    }
}

/// One operator application (`NodeProto`) in the default ONNX domain.
public struct ONNXNode: Sendable, Equatable {
    public var opType: String
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [ONNXAttribute]

    public init(opType: String, name: String, inputs: [String], outputs: [String], attributes: [ONNXAttribute] = []) {
        self.opType = opType
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    func encoded() -> ProtobufWriter {
        var writer = ProtobufWriter()
        for input in inputs { writer.string(1, input) }
        for output in outputs { writer.string(2, output) }
        writer.string(3, name)
        writer.string(4, opType)
        for attribute in attributes { writer.message(5, attribute.encoded()) }
        return writer
    }
}

/// A computation graph (`GraphProto`): nodes in topological order, constant initializers, and
/// the declared inputs and outputs.
public struct ONNXGraph: Sendable, Equatable {
    public var name: String
    public var nodes: [ONNXNode]
    public var initializers: [ONNXTensor]
    public var inputs: [ONNXValueInfo]
    public var outputs: [ONNXValueInfo]

    public init(name: String, nodes: [ONNXNode], initializers: [ONNXTensor], inputs: [ONNXValueInfo], outputs: [ONNXValueInfo]) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
    }

    func encoded() -> ProtobufWriter {
        var writer = ProtobufWriter()
        for node in nodes { writer.message(1, node.encoded()) }
        writer.string(2, name)
        for tensor in initializers { writer.message(5, tensor.encoded()) }
        for input in inputs { writer.message(11, input.encoded()) }
        for output in outputs { writer.message(12, output.encoded()) }
        return writer
    }
}

/// A complete model file (`ModelProto`).
public struct ONNXModel: Sendable, Equatable {
    /// IR version 8 (ONNX 1.10+), understood by every current runtime.
    public static let defaultIRVersion: Int64 = 8
    /// Default-domain opset: 13 has Clip with min/max inputs, Round, and axes-as-attribute Squeeze.
    public static let defaultOpset: Int64 = 13

    public var irVersion: Int64
    public var opsetVersion: Int64
    public var producerName: String
    public var producerVersion: String
    public var documentation: String
    public var graph: ONNXGraph

    public init(graph: ONNXGraph, irVersion: Int64 = defaultIRVersion, opsetVersion: Int64 = defaultOpset,
                producerName: String = "HEPML", producerVersion: String = "1", documentation: String = "") {
        self.graph = graph
        self.irVersion = irVersion
        self.opsetVersion = opsetVersion
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.documentation = documentation
    }

    /// The serialized model.
    public func serialized() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.int(1, irVersion)
        writer.string(2, producerName)
        writer.string(3, producerVersion)
        if !documentation.isEmpty { writer.string(6, documentation) }
        writer.message(7, graph.encoded())
        var opset = ProtobufWriter()
        opset.string(1, "")
        opset.int(2, opsetVersion)
        writer.message(8, opset)
        return writer.bytes
    }

    /// Writes the model atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(serialized(), to: path)
    }
}
