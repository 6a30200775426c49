import Foundation
import Testing
import HEPMLCore
import HEPMLTestSupport
@testable import HEPMLONNX

@Suite("Protobuf wire format and ONNX model round trip")
struct ProtobufTests {
    @Test("Varints, keys, fixed32 and packed fields encode as the protobuf spec's examples")
    func encoding() throws {
        var writer = ProtobufWriter()
        writer.int(1, 150)  // the protobuf documentation's example: 08 96 01
        #expect(writer.bytes == [0x08, 0x96, 0x01])
        writer = ProtobufWriter()
        writer.int(2, -1)
        #expect(writer.bytes == [0x10] + [UInt8](repeating: 0xff, count: 9) + [0x01])
        writer = ProtobufWriter()
        writer.string(2, "testing")
        #expect(writer.bytes == [0x12, 0x07] + Array("testing".utf8))
        writer = ProtobufWriter()
        writer.float(2, 1)
        #expect(writer.bytes == [0x15, 0x00, 0x00, 0x80, 0x3f])
        writer = ProtobufWriter()
        writer.packedInts(4, [3, 270, 86942])
        #expect(writer.bytes == [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05])

        var reader = ProtobufReader(writer.bytes, file: "memory", object: "test")
        let field = try #require(try reader.nextField())
        let values = try field.int64s(reader)
        #expect(field.number == 4 && values == [3, 270, 86942])
        #expect(try reader.nextField() == nil)
    }

    static func sampleModel() -> ONNXModel {
        var graph = ONNXGraphBuilder(name: "sample")
        let x = graph.input("x", shape: [.symbolic("N"), .fixed(3)])
        let w = graph.constant([1, -2, 0.5, 4, 5, 6], dimensions: [2, 3], name: "w")
        let b = graph.constant([0.25, -0.75], dimensions: [2])
        let y = graph.relu(graph.gemm(x, w, b, transB: true))
        let shaped = graph.reshape(y, to: [-1, 2, 1])
        let transposed = graph.transpose(shaped, permutation: [0, 2, 1])
        _ = graph.node("Softmax", [graph.flatten(transposed)], attributes: [ONNXAttribute("axis", .int(1)), ONNXAttribute("label", .string("p")),
                                                                           ONNXAttribute("scale", .float(0.5)), ONNXAttribute("w", .floats([1, 2]))])
        graph.output(y, name: "y", shape: [.symbolic("N"), .fixed(2)])
        return graph.model(documentation: "round trip")
    }

    @Test("A written model reads back identically")
    func roundTrip() throws {
        let model = Self.sampleModel()
        let bytes = model.serialized()
        let decoded = try ONNXModel(decoding: bytes, file: "memory.onnx")
        #expect(decoded == model)
        #expect(decoded.graph.initializers.first?.data == .float([1, -2, 0.5, 4, 5, 6]))
        #expect(decoded.graph.nodes.map(\.opType) == ["Gemm", "Relu", "Reshape", "Transpose", "Flatten", "Softmax", "Identity"])
    }

    @Test("Truncated or corrupt files raise errors naming the offset, never crash")
    func corruptInput() throws {
        let bytes = Self.sampleModel().serialized()
        for cut in stride(from: 1, to: bytes.count, by: 7) {
            #expect(throws: FileFormatError.self) { try ONNXModel(decoding: Array(bytes[..<cut]), file: "cut.onnx") }
        }
        #expect(throws: FileFormatError.self) { try ONNXModel(decoding: [0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f], file: "huge.onnx") }
        #expect(throws: FileFormatError.self) { try ONNXModel(decoding: [0x0f], file: "wiretype.onnx") }
    }
}
