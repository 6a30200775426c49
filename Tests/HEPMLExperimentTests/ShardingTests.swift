import Foundation
import HEPMLTestSupport
import Testing
@testable import HEPMLExperiment

@Suite struct ShardingTests {
    @Test func partsAreContiguousBalancedAndCoverEveryGroupOnce() throws {
        let runs = [355_104, 355_100, 355_101, 355_100, 355_130, 355_102, 355_107]  // 6 distinct runs, one twice
        let parts = try (0..<4).map { try Shard(index: $0, count: 4).select(runs) }
        #expect(parts.map(\.count) == [2, 1, 2, 1])
        #expect(parts[0] == [355_100, 355_101] && parts[3] == [355_130])
        #expect(parts.reduce(Set<Int>()) { $0.union($1) } == Set(runs))
        #expect(try Shard(index: 5, count: 8).select([1, 2]).isEmpty)
        #expect(try Shard(parsing: "3/10") == Shard(index: 3, count: 10))
        #expect(try Shard(index: 3, count: 10).partName("ZeroBias") == "ZeroBias.part-3-of-10")
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3"] {
            #expect(throws: ShardError.self) { try Shard(parsing: bad) }
        }
    }

    @Test func manifestsMustFormExactlyOneWhole() throws {
        let directory = try TestEnvironment.temporaryDirectory("shards")
        defer { try? FileManager.default.removeItem(at: directory) }
        func part(_ index: Int, of count: Int, contents: String = "a", name: String? = nil) throws -> String {
            let path = directory.appendingPathComponent(name ?? "t.part-\(index)-of-\(count).parquet").path
            let manifest = ShardManifest(workflow: "test", shard: try Shard(index: index, count: count), part: path,
                                         fingerprints: ["contents": contents])
            try manifest.write(to: ShardManifest.path(forPart: path))
            return path
        }
        let zero = try part(0, of: 3), one = try part(1, of: 3), two = try part(2, of: 3)
        #expect(try ShardSet.manifests(ofParts: [two, zero, one]).map { $0.manifest.shard.index } == [0, 1, 2])
        #expect(ShardManifest.path(forPart: zero).hasSuffix("t.part-0-of-3.manifest.json"))

        func failure(_ parts: [String]) -> String {
            do {
                _ = try ShardSet.manifests(ofParts: parts)
                return ""
            } catch {
                return "\(error)"
            }
        }
        let copy = try part(1, of: 3, name: "copy.parquet")
        let otherContents = try part(1, of: 3, contents: "b", name: "other.parquet")
        let otherCount = try part(1, of: 4)
        #expect(failure([zero, two]).contains("missing shard 1 of 3"))
        #expect(failure([zero, one, two, copy]).contains("shard 1/3 given 2 times"))
        #expect(failure([zero, otherContents, two]).contains("differ in contents"))
        // The values compared come from the manifests: the message names them (the bad-input suite's damaged manifest).
        #expect(failure([zero, otherContents, two]).contains("other.manifest.json and "), "\(failure([zero, otherContents, two]))")
        #expect(failure([zero, otherCount, two]).contains("one of 4 parts"))
        #expect(failure([directory.appendingPathComponent("absent.parquet").path]).contains("manifest"))
        #expect(ShardManifest.fingerprint(Array("abc".utf8)) == "e71fa2190541574b")
    }
}
