// libFuzzer entry point for the DQM configuration files (`make fuzz-dqm-config`): the bytes are
// read as the --contents JSON and as the --datasets JSON. The Makefile compiles this file
// together with Sources/HEPMLDQM/Inputs/DQMInputs.swift and DQMHistogram.swift (Foundation and
// HEPMLCore only), so the harness needs no sanitized build of the whole workflow module.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDQMConfiguration(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let json = Data(bytes: data, count: size)
    if let contents = try? DQMContents(json: json, file: "contents.json") {
        for path in contents.histograms.prefix(50) { _ = path.columnName }
    }
    if let datasets = try? DQMDatasets(json: json, file: "datasets.json") {
        _ = datasets.primaryDatasets.count
    }
    return 0
}
