// libFuzzer entry point for the ROOT reader (`make fuzz-root`). Not part of the Swift package:
// the Makefile compiles it against HEPMLROOT built with `-sanitize=fuzzer,address`.
import Foundation
import HEPMLROOT

/// ROOTFile reads through a file descriptor, so each input goes through one scratch file.
private let scratchPath = NSTemporaryDirectory() + "hepml-fuzz-root-\(getpid()).root"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzROOTReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard FileManager.default.createFile(atPath: scratchPath, contents: Data(bytes: data, count: size)) else { return 0 }
    guard let file = try? ROOTFile(path: scratchPath) else { return 0 }
    _ = try? file.streamerInfos()
    guard let keys = try? file.keys() else { return 0 }
    for key in keys.prefix(50) {
        if key.className.hasPrefix("TH") || key.className.hasPrefix("TProfile") {
            _ = try? file.histogram(key.path)
        } else if key.className == "TTree", let tree = try? file.tree(key.path) {
            _ = tree.branchSummaries()
            _ = try? tree.arrays(entries: 0..<200)
        }
    }
    return 0
}
