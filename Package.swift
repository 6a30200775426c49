// swift-tools-version:6.1
import PackageDescription

/// System C libraries come from Debian packages; `make deps` installs them.
func systemLibrary(_ name: String, pkgConfig: String? = nil, apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Sources/CSystem/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

/// The command-line tool links the Swift runtime and Foundation statically on Linux: the dynamic
/// loader then binds about 8,000 fewer symbols at every start, which is a third of the start-up of a
/// short command (`hepml root ls` of one file). Foundation's static archive needs its C parts
/// named explicitly.
let staticSwiftRuntime: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib"], .when(platforms: [.linux])),
] + ["Foundation", "CoreFoundation", "FoundationInternationalization", "FoundationEssentials", "_FoundationICU", "_FoundationCShims", "_FoundationCollections"]
    .map { .linkedLibrary($0, .when(platforms: [.linux])) }

let package = Package(
    name: "HEPML",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hepml", targets: ["hepml"]),
        .library(name: "HEPML", targets: [
            "HEPMLCore", "HEPMLCompression", "HEPMLRemote", "HEPMLTensor", "HEPMLNN", "HEPMLROOT",
            "HEPMLColumnar", "HEPMLMetrics", "HEPMLPlot", "HEPMLONNX", "HEPMLExperiment", "HEPMLDQM", "HEPMLECONT", "HEPMLLDMX", "HEPMLCompress", "HEPMLHCAL", "HEPMLHCALServe", "HEPMLBatch",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Remote files: XRootD over SwiftNIO, HTTP(S) range reads over AsyncHTTPClient (HEPMLRemote).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The live HCAL monitor's HTTP server (HEPMLHCALServe); no traits: no swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        systemLibrary("COpenBLAS", apt: ["libopenblas-dev", "liblapacke-dev"]),
        systemLibrary("CZlib", apt: ["zlib1g-dev"]),
        systemLibrary("CDeflate", apt: ["libdeflate-dev"]),
        systemLibrary("CZstd", apt: ["libzstd-dev"]),
        systemLibrary("CLZ4", apt: ["liblz4-dev", "libxxhash-dev"]),
        systemLibrary("CLZMA", apt: ["liblzma-dev"]),
        systemLibrary("CCairo", apt: ["libcairo2-dev"]),
        systemLibrary("CSnappy", apt: ["libsnappy-dev"]),
        systemLibrary("CSQLite", apt: ["libsqlite3-dev"]),

        // Layer 0: bytes, files, threads, randomness, progress.
        .target(name: "HEPMLCore"),
        .target(name: "HEPMLCompression", dependencies: ["HEPMLCore", "CZlib", "CDeflate", "CZstd", "CLZ4", "CLZMA", "CSnappy"]),
        // Byte sources for files where they live: root:// (XRootD) and http(s)/davs:// range reads.
        .target(name: "HEPMLRemote", dependencies: [
            "HEPMLCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),

        // Layer 1: numerics and file formats. CVectorKernels holds the few kernels that need
        // instructions beyond baseline x86-64 (AVX2, AVX-512), selected at run time.
        .target(name: "CVectorKernels"),
        .target(name: "HEPMLTensor", dependencies: ["HEPMLCore", "COpenBLAS", "CVectorKernels"]),
        .target(name: "HEPMLNN", dependencies: ["HEPMLTensor"]),
        .target(name: "HEPMLColumnar", dependencies: ["HEPMLCore", "HEPMLCompression"]),
        .target(name: "HEPMLMetrics", dependencies: ["HEPMLCore"]),
        // ROOT interpretation hands tree columns on as a Columnar `Table`, the shared in-memory model.
        .target(name: "HEPMLROOT", dependencies: ["HEPMLCore", "HEPMLCompression", "HEPMLColumnar", "HEPMLRemote"]),
        .target(name: "HEPMLPlot", dependencies: ["HEPMLCore", "HEPMLMetrics", "CCairo"]),
        .target(name: "HEPMLONNX", dependencies: ["HEPMLNN"]),

        // Layer 2: the experiment layer every workflow trains, stores, exports and reports through.
        .target(name: "HEPMLExperiment", dependencies: ["HEPMLNN", "HEPMLColumnar", "HEPMLONNX", "HEPMLMetrics", "HEPMLPlot"]),

        // Layer 3: workflows.
        .target(name: "HEPMLDQM", dependencies: ["HEPMLExperiment", "HEPMLNN", "HEPMLTensor", "HEPMLROOT", "HEPMLRemote", "HEPMLColumnar", "HEPMLMetrics", "HEPMLPlot", "COpenBLAS"]),
        .target(name: "HEPMLECONT", dependencies: ["HEPMLExperiment", "HEPMLNN", "HEPMLColumnar", "HEPMLMetrics", "HEPMLPlot", "HEPMLONNX"]),
        .target(name: "HEPMLLDMX", dependencies: ["HEPMLExperiment", "HEPMLNN", "HEPMLTensor", "CVectorKernels", "HEPMLROOT", "HEPMLColumnar", "HEPMLMetrics", "HEPMLPlot"]),

        // Layer 3: job arrays and sweeps on a batch system (Slurm, HTCondor) for any workflow's commands.
        .target(name: "HEPMLBatch", dependencies: ["HEPMLExperiment", "HEPMLNN", "HEPMLColumnar", "HEPMLPlot"]),
        .target(name: "HEPMLCompress", dependencies: ["HEPMLExperiment", "HEPMLNN", "HEPMLTensor", "HEPMLCore", "HEPMLROOT", "HEPMLColumnar", "HEPMLCompression", "HEPMLMetrics", "HEPMLPlot", "HEPMLONNX"]),
        .target(name: "HEPMLHCAL", dependencies: ["HEPMLExperiment", "HEPMLNN", "HEPMLTensor", "HEPMLROOT", "HEPMLColumnar", "HEPMLMetrics", "HEPMLPlot"]),
        // Layer 3: the live HCAL monitor service (HTTP over Hummingbird, results in SQLite, the dashboard in the binary).
        .target(name: "HEPMLHCALServe", dependencies: [
            "HEPMLHCAL", "HEPMLCore", "HEPMLColumnar", "CSQLite",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], resources: [
            .embedInCode("Dashboard/index.html"), .embedInCode("Dashboard/dashboard.js"), .embedInCode("Dashboard/dashboard.css"),
            .embedInCode("openapi.json"),
        ]),

        // Layer 4: the command-line tool.
        .executableTarget(name: "hepml", dependencies: [
            "HEPMLCore", "HEPMLRemote", "HEPMLTensor", "HEPMLNN", "HEPMLROOT", "HEPMLColumnar", "HEPMLPlot",
            "HEPMLONNX", "HEPMLExperiment", "HEPMLDQM", "HEPMLECONT", "HEPMLLDMX", "HEPMLCompress", "HEPMLHCAL", "HEPMLHCALServe", "HEPMLBatch",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: staticSwiftRuntime),

        .target(name: "HEPMLTestSupport", dependencies: ["HEPMLCore"], path: "Tests/HEPMLTestSupport"),
        .testTarget(name: "HEPMLCoreTests", dependencies: ["HEPMLCore", "HEPMLCompression", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLTensorTests", dependencies: ["HEPMLTensor", "CVectorKernels", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLNNTests", dependencies: ["HEPMLNN", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLRemoteTests", dependencies: [
            "HEPMLRemote", "HEPMLROOT", "HEPMLDQM", "HEPMLColumnar", "HEPMLTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "HEPMLROOTTests", dependencies: ["HEPMLROOT", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLColumnarTests", dependencies: ["HEPMLColumnar", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLMetricsTests", dependencies: ["HEPMLMetrics", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLPlotTests", dependencies: ["HEPMLPlot", "HEPMLMetrics", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLONNXTests", dependencies: ["HEPMLONNX", "HEPMLNN", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLExperimentTests", dependencies: ["HEPMLExperiment", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLDQMTests", dependencies: ["HEPMLDQM", "HEPMLExperiment", "HEPMLMetrics", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLECONTTests", dependencies: ["HEPMLECONT", "HEPMLExperiment", "HEPMLMetrics", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLLDMXTests", dependencies: ["HEPMLLDMX", "CVectorKernels", "HEPMLExperiment", "HEPMLNN", "HEPMLTensor", "HEPMLROOT", "HEPMLColumnar", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLCompressTests", dependencies: ["HEPMLCompress", "HEPMLExperiment", "HEPMLNN", "HEPMLCompression", "HEPMLCore", "HEPMLROOT", "HEPMLColumnar", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLHCALTests", dependencies: ["HEPMLHCAL", "HEPMLExperiment", "HEPMLNN", "HEPMLONNX", "HEPMLTensor", "HEPMLROOT", "HEPMLTestSupport"]),
        .testTarget(name: "HEPMLHCALServeTests", dependencies: [
            "HEPMLHCALServe", "HEPMLHCAL", "HEPMLExperiment", "HEPMLCore", "HEPMLTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "HEPMLBatchTests", dependencies: ["HEPMLBatch", "HEPMLExperiment", "HEPMLColumnar", "HEPMLTestSupport"]),
        .testTarget(name: "hepmlCLITests", dependencies: ["HEPMLColumnar", "HEPMLROOT", "HEPMLTestSupport"]),
    ],
    // Numeric kernels share buffers across worker threads by design; Swift 5 mode keeps the
    // strict-concurrency diagnostics as warnings instead of blocking those patterns.
    swiftLanguageModes: [.v5]
)
