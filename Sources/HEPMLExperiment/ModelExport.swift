import HEPMLONNX

extension RunDirectory {
    /// Writes the stored model as an ONNX graph to `path` (docs/onnx.md), its inputs and outputs
    /// named as in `model.json` unless `inputNames`/`outputNames` rename them (in order).
    public func exportONNX(to path: String, inputNames: [String]? = nil, outputNames: [String]? = nil, documentation: String = "",
                           options: ONNXExporter.Options = ONNXExporter.Options()) throws {
        try ONNXExporter.export(try loadModel(), inputNames: inputNames, outputNames: outputNames, documentation: documentation, options: options)
            .write(to: path)
    }
}
