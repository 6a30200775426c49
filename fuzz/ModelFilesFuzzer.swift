// libFuzzer entry point for the run-directory files that ECON-T (and DQM autoencoder) training
// writes and `econt evaluate --eval-only` / `econt export` / `dqm export` read back
// (`make fuzz-econt-config`): the bytes are read as model.json (a ModelSpec, then shape
// inference) and as weights.safetensors. Compiled against HEPMLNN built with
// `-sanitize=fuzzer,address`; not part of the Swift package.
import Foundation
import HEPMLNN

private let scratchPath = NSTemporaryDirectory() + "hepml-fuzz-model-\(getpid()).safetensors"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    if let spec = try? ModelSpec(json: bytes, file: "model.json") {
        _ = try? spec.summary()
    }
    guard FileManager.default.createFile(atPath: scratchPath, contents: bytes) else { return 0 }
    _ = try? SafeTensors.read(scratchPath, as: Float.self)
    return 0
}
