import Foundation
import HEPMLCore
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// A bounded, seeded mutation loop over the shared files: every mutated file must either read or
/// throw; a crash or hang fails the whole test run.
@Suite struct FuzzTests {
    /// Reads everything the public API offers; errors are expected and swallowed.
    static func exercise(_ path: String) {
        guard let file = try? ROOTFile(path: path) else { return }
        _ = try? file.streamerInfos()
        guard let keys = try? file.keys() else { return }
        for key in keys.prefix(50) {
            if key.className.hasPrefix("TH") || key.className.hasPrefix("TProfile") {
                _ = try? file.histogram(key.path)
            } else if key.className == "TTree" {
                _ = try? file.tree(key.path).arrays(entries: 0..<200)
            }
        }
    }

    @Test(.requiresShared) func mutatedFilesThrowInsteadOfCrashing() throws {
        let shared = try TestEnvironment.sharedDirectory()
        let names = ["uproot-histograms.root", "uproot-issue33.root", "uproot-simple.root", "uproot-leaflist.root",
                     "uproot-issue-227a.root", "uproot-vectorVectorDouble.root", "uproot-small-flat-tree.root", "uproot-nesteddirs.root",
                     "uproot-small-evnt-tree-fullsplit.root"]
        let directory = try TestEnvironment.temporaryDirectory("root-fuzz")
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SeededGenerator(seed: 2024)
        let deadline = ResourceUsage.now() + 4
        var iterations = 0
        while ResourceUsage.now() < deadline {
            let name = names[Int(random.next() % UInt64(names.count))]
            let original = [UInt8](try Data(contentsOf: shared.appendingPathComponent("testdata/root/\(name)")))
            var bytes = original
            switch random.next() % 4 {
            case 0:  // truncate
                bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
            case 1:  // flip a few random bytes
                for _ in 0..<(1 + random.next() % 8) { bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1 + random.next() % 255) }
            case 2:  // overwrite a 4-byte word with an extreme value
                let at = Int(random.next() % UInt64(bytes.count - 4))
                let word: [UInt8] = [[0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0x40, 0, 0, 0], [0x80, 0, 0, 0]][Int(random.next() % 5)]
                bytes.replaceSubrange(at..<(at + 4), with: word)
            default:  // corrupt bytes in the header/directory region
                for _ in 0..<4 { bytes[Int(random.next() % UInt64(min(bytes.count, 400)))] = UInt8(truncatingIfNeeded: random.next()) }
            }
            let path = directory.appendingPathComponent("m\(iterations % 8).root").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            FuzzTests.exercise(path)
            iterations += 1
        }
        #expect(iterations > 20)
    }

    @Test func badInputsNameTheFile() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let notROOT = directory.appendingPathComponent("text.root").path
        try Data("hello, this is not a ROOT file at all".utf8).write(to: URL(fileURLWithPath: notROOT))
        do {
            _ = try ROOTFile(path: notROOT)
            Issue.record("a text file opened as ROOT")
        } catch let error as FileFormatError {
            #expect(error.file == notROOT && error.offset == 0)
        }
        let empty = directory.appendingPathComponent("empty.root").path
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(throws: FileFormatError.self) { try ROOTFile(path: empty) }
        #expect(throws: FileFormatError.self) { try ROOTFile(path: directory.appendingPathComponent("missing.root").path) }
    }

    @Test(.requiresShared) func truncatedFileNamesTheFileAndOffset() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-truncated")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try TestEnvironment.rootTestFile("uproot-histograms.root")
        let truncated = directory.appendingPathComponent("truncated.root").path
        try Data(try Data(contentsOf: url).prefix(3000)).write(to: URL(fileURLWithPath: truncated))
        do {
            let file = try ROOTFile(path: truncated)
            for key in try file.keys() { _ = try file.histogram(key.path) }
            Issue.record("a truncated file read without error")
        } catch let error as FileFormatError {
            #expect(error.file == truncated && error.offset != nil)
        }
    }
}
