import Foundation
import HEPMLCore
@testable import HEPMLROOT
import HEPMLTestSupport
import Testing

/// Mutations aimed at tree metadata, which byte flips of whole files rarely reach because the
/// TTree record is compressed: the decompressed TTree payload (TBranch tables, leaves, embedded
/// baskets) is mutated and parsed again, and the uncompressed TKey + TBasket headers of on-disk
/// baskets are mutated in the file. Every read must return or throw, never crash or hang.
@Suite struct TreeMutationTests {
    static let files = ["repro/uproot-issue21.root", "testdata/root/uproot-small-flat-tree.root", "testdata/root/uproot-HZZ.root",
                        "testdata/root/uproot-small-evnt-tree-fullsplit.root", "testdata/root/uproot-vectorVectorDouble.root",
                        "testdata/root/uproot-leaflist.root"]

    static func exercise(_ tree: Tree) {
        _ = tree.branchSummaries()
        _ = try? tree.arrays(entries: 0..<200)
        _ = try? tree.table(entries: 3..<40)
    }

    /// A mutated copy of `bytes`: a few random bytes, or an extreme 4-byte word, at random positions in `region`.
    static func mutate(_ bytes: inout [UInt8], in region: Range<Int>, _ random: inout SeededGenerator) {
        guard region.count > 4 else { return }
        if random.next() % 2 == 0 {
            for _ in 0..<(1 + random.next() % 4) {
                bytes[region.lowerBound + Int(random.next() % UInt64(region.count))] ^= UInt8(1 + random.next() % 255)
            }
        } else {
            let at = region.lowerBound + Int(random.next() % UInt64(region.count - 4))
            let words: [[UInt8]] = [[0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0x40, 0, 0, 0], [0x80, 0, 0, 0], [0, 0, 0, 1]]
            bytes.replaceSubrange(at..<(at + 4), with: words[Int(random.next() % UInt64(words.count))])
        }
    }

    @Test(.requiresShared) func mutatedTreeMetadataAndBasketHeadersThrowInsteadOfCrashing() throws {
        let shared = try TestEnvironment.sharedDirectory()
        let directory = try TestEnvironment.temporaryDirectory("root-tree-fuzz")
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SeededGenerator(seed: 17)
        var metadataRounds = 0, basketRounds = 0
        for name in Self.files {
            let path = shared.appendingPathComponent(name).path
            let file = try ROOTFile(path: path)
            let treeKey = try #require(try file.keys().first { $0.className == "TTree" })
            let key = try file.key(at: treeKey.path)
            let payload = try file.payload(of: key, path: treeKey.path)
            let original = try file.tree(treeKey.path)
            let deadline = ResourceUsage.now() + 0.6
            // The TTree payload: TBranch/TLeaf/TBasket fields and embedded baskets.
            while ResourceUsage.now() < deadline {
                var bytes = payload
                Self.mutate(&bytes, in: 0..<bytes.count, &random)
                var reader = ByteReader(bytes, file: path, object: treeKey.path)
                if let tree = try? Tree.read(className: key.className, &reader, references: ReferenceMap(keyLength: key.keyLength),
                                             file: file, path: treeKey.path) {
                    Self.exercise(tree)
                }
                metadataRounds += 1
            }
            // The key and TBasket header of on-disk baskets (never compressed).
            let fileBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let seeks = original.allBranches.flatMap(\.basketSeek).filter { $0 > 0 && $0 < fileBytes.count - 100 }
            guard !seeks.isEmpty else { continue }
            let mutatedPath = directory.appendingPathComponent("baskets.root").path
            let basketDeadline = ResourceUsage.now() + 0.4
            while ResourceUsage.now() < basketDeadline {
                var bytes = fileBytes
                let seek = seeks[Int(random.next() % UInt64(seeks.count))]
                Self.mutate(&bytes, in: seek..<(seek + 90), &random)
                try Data(bytes).write(to: URL(fileURLWithPath: mutatedPath))
                if let tree = try? ROOTFile(path: mutatedPath).tree(treeKey.path) { Self.exercise(tree) }
                basketRounds += 1
            }
        }
        #expect(metadataRounds > 30 && basketRounds > 10)
    }
}
