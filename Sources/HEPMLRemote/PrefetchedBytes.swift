import HEPMLCore

/// The first and last bytes of a remote file (all of a small one), fetched in the round trip
/// right after the open. A ROOT reader's first dozens of reads (file header, directory records,
/// keys lists, StreamerInfo) fall there, so a DQM file of some 100 KiB is read in one request
/// instead of one per directory level.
struct PrefetchedBytes: Sendable {
    /// Bytes fetched from each end: 2 × 256 KiB per open file costs little next to a round trip
    /// to a remote site, and covers the whole of a typical DQM file.
    static let bytesPerEnd = 256 << 10

    static let none = PrefetchedBytes(head: [], tail: [], size: 0)

    /// The ranges to fetch for a file of `size` bytes: the whole file when the two ends would
    /// meet, else its head and its tail.
    static func ranges(size: Int) -> [ByteRange] {
        guard size > 2 * bytesPerEnd else { return [ByteRange(offset: 0, count: size)] }
        return [ByteRange(offset: 0, count: bytesPerEnd), ByteRange(offset: size - bytesPerEnd, count: bytesPerEnd)]
    }

    private let head: [UInt8]
    private let tail: [UInt8]
    private let size: Int

    private init(head: [UInt8], tail: [UInt8], size: Int) {
        self.head = head
        self.tail = tail
        self.size = size
    }

    /// The file's first bytes (the first range of `ranges(size:)`, or more) and, unless those are
    /// the whole file, its last ones.
    init(fetched: [[UInt8]], size: Int) {
        self.init(head: fetched.first ?? [], tail: fetched.count > 1 ? fetched[1] : [], size: size)
    }

    /// The bytes of checked `ranges`: copied from the ends where a range lies wholly in one,
    /// the others read by one call of `fetch`.
    func read(_ ranges: [ByteRange], fetch: ([ByteRange]) throws -> [[UInt8]]) throws -> [[UInt8]] {
        var results: [[UInt8]] = []
        var missing: [Int] = []
        for (index, range) in ranges.enumerated() {
            let cached = bytes(range)
            results.append(cached ?? [])
            if cached == nil, range.count > 0 { missing.append(index) }
        }
        guard !missing.isEmpty else { return results }
        for (index, fetched) in zip(missing, try fetch(missing.map { ranges[$0] })) { results[index] = fetched }
        return results
    }

    /// The bytes of `range` when it lies wholly in the head or the tail.
    private func bytes(_ range: ByteRange) -> [UInt8]? {
        if range.offset + range.count <= head.count { return Array(head[range.offset..<(range.offset + range.count)]) }
        let tailStart = size - tail.count
        guard !tail.isEmpty, range.offset >= tailStart else { return nil }
        return Array(tail[(range.offset - tailStart)..<(range.offset - tailStart + range.count)])
    }
}
