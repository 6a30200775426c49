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
        let zip = try ZIP.encode([ZIP.Member(name: "a.npy", data: bytes)], compress: true)
        #expect(throws: FileFormatError.self) { try ZIP.read(Array(zip.prefix(zip.count - 30)), file: "t.npz") }
        var flipped = zip
        flipped[40] ^= 0xFF
        #expect(throws: FileFormatError.self) { try ZIP.read(flipped, file: "t.npz") }
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
