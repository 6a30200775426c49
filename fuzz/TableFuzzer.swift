// libFuzzer entry point for the table readers (`make fuzz-parquet`, `fuzz-npz`, `fuzz-npy`,
// `fuzz-csv`): the same file is compiled once per format with `-D FUZZ_<FORMAT>`, against
// HEPMLColumnar built with `-sanitize=fuzzer,address`. Not part of the Swift package.
import Foundation
import HEPMLColumnar

#if FUZZ_PARQUET
private let suffix = "parquet"
#elseif FUZZ_NPZ
private let suffix = "npz"
#elseif FUZZ_NPY
private let suffix = "npy"
#else
private let suffix = "csv"
#endif

/// The readers open files by path (Parquet and .npz through byte ranges), so each input goes
/// through one scratch file whose extension picks the reader.
private let scratchPath = NSTemporaryDirectory() + "hepml-fuzz-table-\(getpid()).\(suffix)"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTableReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard FileManager.default.createFile(atPath: scratchPath, contents: Data(bytes: data, count: size)) else { return 0 }
    guard let table = try? TableFile.read(path: scratchPath) else { return 0 }
    // Touch every column the way `table show` does.
    for column in table.columns {
        _ = column.nullCount
        for row in 0..<min(table.rowCount, 20) { _ = column.values.string(at: row) }
    }
    return 0
}
