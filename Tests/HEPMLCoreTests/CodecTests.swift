import HEPMLCompression
import HEPMLCore
import Testing

@Suite struct CodecTests {
    let payload: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 13) }

    @Test func everyCodecRoundTrips() throws {
        try payload.withUnsafeBytes { input in
            let zlib = try Codec.deflate(input)
            #expect(try zlib.withUnsafeBytes { try Codec.inflate($0, decompressedSize: payload.count) } == payload)
            let raw = try Codec.deflate(input, raw: true)
            #expect(try raw.withUnsafeBytes { try Codec.inflate($0, decompressedSize: payload.count, raw: true) } == payload)
            let zstd = try Codec.zstdCompress(input)
            #expect(try zstd.withUnsafeBytes { try Codec.zstdDecompress($0, decompressedSize: payload.count) } == payload)
            let lz4 = try Codec.lz4Compress(input)
            #expect(try lz4.withUnsafeBytes { try Codec.lz4Decompress($0, decompressedSize: payload.count) } == payload)
            let xz = try Codec.xzCompress(input)
            #expect(try xz.withUnsafeBytes { try Codec.xzDecompress($0, decompressedSize: payload.count) } == payload)
            let snappy = try Codec.snappyCompress(input)
            #expect(try snappy.withUnsafeBytes { try Codec.snappyDecompress($0, decompressedSize: payload.count) } == payload)
        }
    }

    @Test func wrongSizeIsAnErrorNotATrap() throws {
        try payload.withUnsafeBytes { input in
            let zstd = try Codec.zstdCompress(input)
            #expect(throws: CompressionError.self) { try zstd.withUnsafeBytes { try Codec.zstdDecompress($0, decompressedSize: 10) } }
            let zlib = try Codec.deflate(input)
            #expect(throws: CompressionError.self) { try zlib.withUnsafeBytes { try Codec.inflate($0, decompressedSize: payload.count + 1) } }
            let garbage = [UInt8](repeating: 0xAB, count: 64)
            #expect(throws: CompressionError.self) { try garbage.withUnsafeBytes { try Codec.lz4Decompress($0, decompressedSize: 1000) } }
        }
    }

    /// A corrupt size field claiming far more than the compressed data can hold is refused
    /// before anything that large is allocated.
    @Test func impossibleSizesAreRefusedUpFront() throws {
        try payload.withUnsafeBytes { input in
            let zstd = try Codec.zstdCompress(input)
            let zstdError = #expect(throws: CompressionError.self) { try zstd.withUnsafeBytes { try Codec.zstdDecompress($0, decompressedSize: 1 << 31) } }
            #expect(zstdError?.reason.contains("at most") == true)
            let lz4 = try Codec.lz4Compress(input)
            let lz4Error = #expect(throws: CompressionError.self) { try lz4.withUnsafeBytes { try Codec.lz4Decompress($0, decompressedSize: Int(Int32.max)) } }
            #expect(lz4Error?.reason.contains("cannot hold") == true)
        }
    }

    @Test func knownChecksums() {
        let text = Array("123456789".utf8)
        text.withUnsafeBytes { bytes in
            #expect(Codec.crc32(bytes) == 0xCBF4_3926)
            #expect(Codec.xxh64(UnsafeRawBufferPointer(start: nil, count: 0)) == 0xEF46_DB37_51D8_E999)
        }
    }
}

@Suite struct ByteReaderTests {
    @Test func readsBothByteOrdersAndRefusesOverruns() throws {
        var reader = ByteReader([0x00, 0x01, 0x02, 0x03, 0xFF], file: "f.bin", object: "obj", baseOffset: 100)
        #expect(try reader.readUInt16() == 0x0001)
        #expect(try reader.readUInt16(bigEndian: false) == 0x0302)
        do {
            _ = try reader.readUInt32()
            Issue.record("expected an error")
        } catch let error as FileFormatError {
            #expect(error.offset == 104)
            #expect(error.description.contains("f.bin: obj at byte 104"))
        }
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = SeededGenerator(seed: 7)
        let normals = (0..<20_000).map { _ in c.nextNormal() }
        let mean = normals.reduce(0, +) / Double(normals.count)
        #expect(abs(mean) < 0.03)
    }

    /// Chunked inflation (the .npz bomb of issue 20): a prefix stops at its limit, a whole stream
    /// ends, and a size above the chunk whose stream holds less fails without allocating it.
    @Test func inflatesAtMostALimitAndGrowsInChunks() throws {
        let zeros = [UInt8](repeating: 0, count: 100_000)
        let compressed = try zeros.withUnsafeBytes { try Codec.deflate($0, raw: true) }
        try compressed.withUnsafeBytes { input in
            let prefix = try Codec.inflate(input, atMost: 1000, raw: true)
            #expect(prefix.bytes.count == 1000 && !prefix.ended)
            let whole = try Codec.inflate(input, atMost: zeros.count, raw: true)
            #expect(whole.bytes == zeros && whole.ended)
            let before = ResourceUsage.peakResidentBytes()
            #expect(throws: CompressionError.self) { try Codec.inflate(input, decompressedSize: 8 << 30, raw: true) }
            #expect(ResourceUsage.peakResidentBytes() - before < Codec.growthChunkBytes * 3)
        }
    }

    @Test func outputNamesStayOneComponent() {
        for hostile in ["..", ".", "", "../../escaped", "/etc/passwd", "a\u{0}b", "x/y", ".hidden", "tab\there"] {
            let name = OutputName.component(hostile, extension: "parquet")
            #expect(!name.contains("/") && !name.contains("\u{0}") && !name.hasPrefix("."), "\(hostile) → \(name)")
            #expect(name.hasSuffix(".parquet"))
        }
        let long = OutputName.component(String(repeating: "é", count: 400))
        #expect(long.utf8.count <= OutputName.maximumBytes)
        #expect(long != OutputName.component(String(repeating: "é", count: 401)))
        #expect(OutputName.component("ZeroBias", extension: "parquet") == "ZeroBias.parquet")
    }
}
