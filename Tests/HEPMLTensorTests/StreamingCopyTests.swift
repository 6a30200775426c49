import CVectorKernels
import HEPMLTensor
import Testing

@Suite struct StreamingCopyTests {
    /// Every head and tail alignment of the destination against 64-byte lines, and lengths below,
    /// at and beyond one line: the copy is exact and the source is left cleared.
    @Test func baselineCopiesEveryValueAndClearsTheSource() {
        copiesEveryValueAndClearsTheSource(on: .baseline)
    }

    @Test(.enabled(if: VectorInstructions.usable.rawValue >= HEPMLVectorInstructions.AVX2.rawValue,
                   "this CPU lacks AVX2, or HEPML_VECTOR_INSTRUCTIONS caps it"))
    func avx2CopiesEveryValueAndClearsTheSource() {
        copiesEveryValueAndClearsTheSource(on: .AVX2)
    }

    private func copiesEveryValueAndClearsTheSource(on instructions: HEPMLVectorInstructions) {
        let destination = UnsafeMutablePointer<Float>.allocate(capacity: 256)
        defer { destination.deallocate() }
        for offset in 0..<16 {
            for count in [0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 147, 200] {
                destination.initialize(repeating: -1, count: 256)
                var source = (0..<count).map { Float($0) + 0.5 }
                let expected = source
                source.withUnsafeMutableBufferPointer { buffer in
                    if let base = buffer.baseAddress { hepml_stream_out_and_clear(instructions, destination + offset, base, Int64(count)) }
                }
                hepml_streaming_fence()
                #expect(Array(UnsafeBufferPointer(start: destination + offset, count: count)) == expected, "offset \(offset), count \(count)")
                #expect(source.allSatisfy { $0 == 0 }, "offset \(offset), count \(count)")
                // Nothing outside the range is touched.
                #expect((0..<offset).allSatisfy { destination[$0] == -1 } && ((offset + count)..<256).allSatisfy { destination[$0] == -1 })
            }
        }
    }
}
