import Foundation
import HEPMLTestSupport
import Testing

@Suite struct EngineCommandTests {
    /// The per-epoch losses of a `train-example` run, without the timings.
    func losses(_ output: String) -> [[Double]] {
        output.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.map { line in
            let words = line.split(separator: " ")
            return zip(words, words.dropFirst()).filter { $0.0 == "loss" }.compactMap { Double($0.1) }
        }
    }

    @Test func trainingIsReproducibleAndBothConvolutionPathsAgree() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let arguments = ["train-example", "--model", "ldmx-convnet", "--epochs", "2", "--samples", "300", "--seed", "5"]
        let first = try TestEnvironment.run(hepml, arguments)
        let second = try TestEnvironment.run(hepml, arguments)
        #expect(first.status == 0, "\(first.output)")
        let losses = losses(first.output)
        #expect(losses.count == 2 && losses.allSatisfy { $0.count == 2 }, "\(first.output)")
        #expect(self.losses(second.output) == losses)
        // im2col + sgemm instead of the direct kernels: the same training up to summation order.
        let portable = try TestEnvironment.run(hepml, arguments, environment: ["HEPML_VECTOR_INSTRUCTIONS": "baseline"])
        let portableLosses = self.losses(portable.output)
        #expect(portableLosses.count == losses.count)
        for (a, b) in zip(portableLosses.joined(), losses.joined()) {
            #expect(abs(a - b) <= 1e-3 * max(1, abs(b)), "\(portable.output)\n\(first.output)")
        }
    }

    @Test func benchmarkPrintsOneLinePerModelAndItsKernels() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let run = try TestEnvironment.run(hepml, ["bench", "engine", "--model", "ldmx-convnet", "--samples", "200"],
                                          environment: ["HEPML_VECTOR_INSTRUCTIONS": "baseline"])
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.first?.contains("baseline convolution kernels") == true, "\(run.output)")
        let model = try #require(lines.first { $0.hasPrefix("ldmx-convnet") })
        let words = model.split(separator: " ")
        #expect(words.count >= 5 && words[1] == "samples/s" && Double(words[2]) ?? 0 > 0 && words[3] == "GFLOP/s", "\(model)")
    }
}
