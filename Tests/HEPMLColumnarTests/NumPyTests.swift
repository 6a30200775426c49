import Foundation
import HEPMLCore
import HEPMLTestSupport
import Testing
@testable import HEPMLColumnar

@Suite struct NumPyTests {
    @Test func npyRoundTripEveryDTypeOrderAndEndianness() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let values: [Double] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
        for dtype in NumPyDType.allCases {
            let base = try NDArray(dtype: dtype, shape: [2, 3, 2], bytes: Self.bytes(values, dtype: dtype))
            for bigEndian in [false, true] {
                for fortran in [false, true] {
                    let array = base.converted(bigEndian: bigEndian, fortranOrder: fortran)
                    let path = directory.appendingPathComponent("a.npy").path
                    try NPY.write(array, to: path)
                    let back = try NPY.read(path: path)
                    #expect(back == array)
                    #expect(back.floatValues() == values.map { dtype == .bool ? ($0 != 0 ? 1 : 0) : Float($0) })
                }
            }
        }
    }

    @Test func fortranOrderTransposesElements() throws {
        let c = try NDArray([Int32(1), 2, 3, 4, 5, 6], shape: [2, 3])
        let f = c.converted(bigEndian: false, fortranOrder: true)
        #expect(f.bytes.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) } == [1, 4, 2, 5, 3, 6])
        #expect(try f.values(as: Int32.self) == [1, 2, 3, 4, 5, 6])
    }

    @Test func npzRoundTripStoredAndDeflated() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arrays: [(name: String, array: NDArray)] = [
            ("x", try NDArray([Float](repeating: 1.5, count: 1000), shape: [10, 100])),
            ("scalar", try NDArray([Int64(7)], shape: [])),
            ("empty", try NDArray([Double](), shape: [0, 3])),
        ]
        for compressed in [false, true] {
            let path = directory.appendingPathComponent("a.npz").path
            try NPZ.write(arrays, to: path, compressed: compressed)
            let back = try NPZ.read(path: path)
            #expect(back.map(\.name) == arrays.map(\.name))
            #expect(back.map(\.array) == arrays.map(\.array))
        }
    }

    @Test func truncatedAndCorruptFilesThrowWithOffsets() throws {
        let array = try NDArray([Float](repeating: 2, count: 64), shape: [8, 8])
        let bytes = NPY.encode(array)
        #expect(throws: FileFormatError.self) { try NPY.decode(Array(bytes.prefix(100)), file: "t.npy") }
        do {
            _ = try NPY.decode(Array(bytes.prefix(200)), file: "t.npy")
        } catch let error as FileFormatError {
            #expect(error.file == "t.npy")
            #expect(error.offset == 128)
        }
        var badHeader = bytes
        badHeader[20] = UInt8(ascii: "?")
        #expect(throws: FileFormatError.self) { try NPY.decode(badHeader, file: "t.npy") }
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func readEveryArray(_ bytes: [UInt8]) throws {
            let file = try NPZFile(source: MemorySource(bytes, path: "t.npz"))
            for name in file.names { _ = try file.array(name) }
        }
        for compressed in [true, false] {
            let path = directory.appendingPathComponent("a.npz").path
            try NPZ.write([("a", array)], to: path, compressed: compressed)
            let zip = try FileSource.contents(of: path)
            try readEveryArray(zip)
            #expect(throws: FileFormatError.self) { try readEveryArray(Array(zip.prefix(zip.count - 30))) }
            var flipped = zip
            flipped[40] ^= 0xFF
            #expect(throws: FileFormatError.self) { try readEveryArray(flipped) }
            guard !compressed else { continue }
            // A flipped element byte of a stored member (local header 30 bytes, name 5, .npy
            // header 128), read in place: only the CRC-32 sees it.
            var flippedElement = zip
            flippedElement[30 + 5 + 128 + 100] ^= 0x01
            #expect(throws: FileFormatError.self) { try NPZFile(source: MemorySource(flippedElement, path: "t.npz")).values("a", as: Float.self) }
        }
    }

    /// Arrays written from the caller's buffers (`NPZMember`) give the same bytes as through
    /// `NDArray`, and read back in place, or converted when stored in another layout.
    @Test func npzMembersFromBuffersAndValuesInPlace() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let floats = (0..<6000).map { Float($0) * 0.25 }
        let counts = [Int64](1...7)
        let viaArrays = directory.appendingPathComponent("arrays.npz").path
        let viaMembers = directory.appendingPathComponent("members.npz").path
        try NPZ.write([("f", try NDArray(floats, shape: [10, 20, 30])), ("n", try NDArray(counts))], to: viaArrays)
        try NPZ.write([try NPZMember("f", floats, shape: [10, 20, 30]), try NPZMember("n", counts)], to: viaMembers)
        #expect(try FileSource.contents(of: viaArrays) == FileSource.contents(of: viaMembers))
        let file = try NPZFile(path: viaMembers)
        #expect(file.names == ["f", "n"])
        let f = try file.values("f", as: Float.self)
        #expect(f.values == floats && f.shape == [10, 20, 30])
        #expect(try file.values("n", as: Int64.self).values == counts)
        #expect(throws: FileFormatError.self) { try file.values("f", as: Double.self) }
        #expect(throws: FileFormatError.self) { try file.values("missing", as: Float.self) }
        #expect(throws: TableError.self) { try NPZMember("f", floats, shape: [10, 20]) }
        let swapped = try NDArray(floats, shape: [10, 20, 30]).converted(bigEndian: true, fortranOrder: true)
        for compressed in [false, true] {
            let path = directory.appendingPathComponent("swapped.npz").path
            try NPZ.write([("f", swapped)], to: path, compressed: compressed)
            let back = try NPZFile(path: path).values("f", as: Float.self)
            #expect(back.values == floats && back.shape == [10, 20, 30])
        }
    }

    /// A stored archive larger than one write piece (`ZIP.pieceBytes`), written from a buffer, is
    /// what numpy reads; and numpy's `savez` of the same size reads back in place.
    @Test(.requiresPython) func numpyReadsLargeStreamedArchives() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let events = 8_000
        #expect(events * 1200 * 4 > 2 * ZIP.pieceBytes)
        let images = (0..<(events * 1200)).map { Float($0 % 1009) * 0.5 }
        try NPZ.write([try NPZMember("images", images, shape: [events, 3, 20, 20]), try NPZMember("label", [Int32](repeating: 1, count: events))],
                      to: directory.appendingPathComponent("ours.npz").path)
        let script = """
        import numpy as np, sys
        d, events = sys.argv[1], int(sys.argv[2])
        z = np.load(d + '/ours.npz')
        expected = ((np.arange(events * 1200) % 1009) * 0.5).astype(np.float32).reshape(events, 3, 20, 20)
        assert z['images'].dtype == np.float32 and z['images'].shape == expected.shape, (z['images'].dtype, z['images'].shape)
        assert (z['images'] == expected).all()
        assert (z['label'] == 1).all() and z['label'].shape == (events,)
        np.savez(d + '/np.npz', x=expected[::-1].copy(), y=np.arange(3))
        print('ok')
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [directory.path, String(events)])
        #expect(result.status == 0, "\(result.output)")
        let x = try NPZFile(path: directory.appendingPathComponent("np.npz").path).values("x", as: Float.self)
        #expect(x.shape == [events, 3, 20, 20])
        var reversedEvents: [Float] = []
        for event in (0..<events).reversed() { reversedEvents += images[(event * 1200)..<((event + 1) * 1200)] }
        #expect(x.values == reversedEvents)
    }

    @Test(.requiresPython) func numpyReadsOursAndWeReadNumpys() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ours = directory.appendingPathComponent("ours.npz").path
        let f = try NDArray([Float](stride(from: 0, to: 24, by: 1)), shape: [2, 3, 4]).converted(bigEndian: true, fortranOrder: true)
        let u = try NDArray([UInt16](1...6), shape: [3, 2])
        try NPZ.write([("f", f), ("u", u)], to: ours, compressed: true)
        try NPY.write(f, to: directory.appendingPathComponent("f.npy").path)
        let script = """
        import numpy as np, sys
        d = sys.argv[1]
        z = np.load(d + '/ours.npz')
        assert z['f'].dtype == np.dtype('>f4') and np.isfortran(z['f']), z['f'].dtype
        assert (z['f'] == np.arange(24, dtype=np.float32).reshape(2, 3, 4)).all()
        assert z['u'].dtype == np.uint16 and (z['u'] == np.arange(1, 7).reshape(3, 2)).all()
        assert (np.load(d + '/f.npy') == np.arange(24).reshape(2, 3, 4)).all()
        a = np.arange(30, dtype='<i8').reshape(5, 6)
        np.save(d + '/np.npy', np.asfortranarray(a.astype('>f8')))
        np.savez(d + '/np.npz', a=a, b=np.array([True, False]))
        np.savez_compressed(d + '/npc.npz', a=a, h=np.zeros((4, 64, 72, 7), dtype=np.float32))
        print('ok')
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [directory.path])
        #expect(result.status == 0, "\(result.output)")
        let single = try NPY.read(path: directory.appendingPathComponent("np.npy").path)
        #expect(single.dtype == .float64 && single.bigEndian && single.fortranOrder && single.shape == [5, 6])
        #expect(try single.converted(bigEndian: false, fortranOrder: false).values(as: Double.self) == (0..<30).map(Double.init))
        for name in ["np.npz", "npc.npz"] {
            let arrays = try NPZ.read(path: directory.appendingPathComponent(name).path)
            let a = try #require(arrays.first { $0.name == "a" }?.array)
            #expect(try a.values(as: Int64.self) == Array(0..<30))
        }
        let b = try #require(try NPZ.read(path: directory.appendingPathComponent("np.npz").path).first { $0.name == "b" }?.array)
        #expect(try b.values(as: Bool.self) == [true, false])
        let h = try #require(try NPZ.read(path: directory.appendingPathComponent("npc.npz").path).first { $0.name == "h" }?.array)
        #expect(h.shape == [4, 64, 72, 7])
    }

    static func bytes(_ values: [Double], dtype: NumPyDType) -> [UInt8] {
        func raw<T>(_ v: [T]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }
        switch dtype {
        case .bool: return values.map { $0 != 0 ? 1 : 0 }
        case .int8: return raw(values.map { Int8($0) })
        case .int16: return raw(values.map { Int16($0) })
        case .int32: return raw(values.map { Int32($0) })
        case .int64: return raw(values.map { Int64($0) })
        case .uint8: return raw(values.map { UInt8($0) })
        case .uint16: return raw(values.map { UInt16($0) })
        case .uint32: return raw(values.map { UInt32($0) })
        case .uint64: return raw(values.map { UInt64($0) })
        case .float32: return raw(values.map { Float($0) })
        case .float64: return raw(values)
        }
    }
}
