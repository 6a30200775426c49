import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLDQM
@testable import HEPMLRemote
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// XRootD against Debian's xrootd on loopback: the shared C++ ROOT files and a generated DQM set
/// read over root:// exactly as from disk, redirects, 'unix' authentication, and faults.
@Suite(.serialized) struct XRootDTests {
    /// A temporary directory with the shared C++ ROOT files, served by xrootd.
    @Test(.requiresXRootD, .requiresShared) func sharedROOTFilesListShowAndDumpAsLocally() throws {
        let directory = try TestEnvironment.temporaryDirectory("xrootd-shared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try TestEnvironment.sharedDirectory().appendingPathComponent("testdata/root")
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.hasSuffix(".root") }.sorted()
        #expect(names.count >= 10)
        for name in names { try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name)) }
        let server = try XRootDServerProcess(exporting: directory.path)
        defer { server.stop() }
        let hepml = try #require(TestEnvironment.hepmlExecutable, "the hepml executable is built with the tests")

        for name in names {
            let local = directory.appendingPathComponent(name).path
            let remote = server.url(local)
            // `hepml root ls -l -r`: the same text, file name aside.
            let localListing = try TestEnvironment.run(hepml, ["root", "ls", "-l", "-r", local])
            let remoteListing = try TestEnvironment.run(hepml, ["root", "ls", "-l", "-r", remote])
            #expect(remoteListing.status == localListing.status, "\(name): \(remoteListing.output)")
            #expect(remoteListing.output.replacingOccurrences(of: remote, with: local) == localListing.output, "\(name)")

            // show and dump through the library: every histogram and every tree's table equal.
            guard let localFile = try? ROOTFile(path: local) else { continue }
            let remoteFile = try ROOTFile(path: remote)
            let keys = try localFile.keys()
            #expect(try remoteFile.keys() == keys)
            for key in keys where key.className.hasPrefix("TH") || key.className.hasPrefix("TProfile") {
                let expected = Result { try localFile.histogram("\(key.path);\(key.cycle)") }
                let got = Result { try remoteFile.histogram("\(key.path);\(key.cycle)") }
                switch (expected, got) {
                case let (.success(a), .success(b)): #expect(a == b, "\(name):\(key.path)")
                case (.failure, .failure): break
                default: Issue.record("\(name):\(key.path): local \(expected), remote \(got)")
                }
            }
            for key in keys where key.className == "TTree" || key.className == "TNtuple" {
                guard let expected = try? localFile.tree(key.path).table() else { continue }
                let got = try remoteFile.tree(key.path).table()
                #expect(got.table == expected.table, "\(name):\(key.path)")
            }
        }
    }

    /// Vector reads (kXR_readv, ranges split into ~2 MiB elements) and single large reads (split
    /// into concurrent kXR_read pieces) return the same bytes as the local file.
    @Test(.requiresXRootD) func vectorAndLargeReadsMatchTheLocalFile() throws {
        let directory = try TestEnvironment.temporaryDirectory("xrootd-readv")
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SeededGenerator(seed: 19)
        let bytes = (0..<(11 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let path = directory.appendingPathComponent("blob.bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let server = try XRootDServerProcess(exporting: directory.path)
        defer { server.stop() }

        let remote = try XRootDSource(url: try XRootDURL(server.url(path)))
        #expect(remote.size == bytes.count)
        let ranges = [ByteRange(offset: 0, count: 100), ByteRange(offset: 5_000_000, count: 3_000_000), ByteRange(offset: 1234, count: 0),
                      ByteRange(offset: bytes.count - 7, count: 7)] + (0..<300).map { ByteRange(offset: $0 * 30_011, count: 97) }
        let pieces = try remote.read(ranges: ranges, object: "ranges")
        for (range, piece) in zip(ranges, pieces) { #expect(piece == Array(bytes[range.offset..<(range.offset + range.count)])) }
        #expect(try remote.read(at: 17, count: bytes.count - 17, object: "all") == Array(bytes[17...]))
        #expect(throws: FileFormatError.self) { try remote.read(at: bytes.count - 3, count: 4, object: "past the end") }
    }

    /// The same Parquet table from root:// as from the directory, directly and through a second
    /// xrootd that redirects every request to the first.
    @Test(.requiresXRootD) func dqmFetchOverXRootDAndThroughARedirectorEqualsTheLocalFetch() throws {
        let directory = try TestEnvironment.temporaryDirectory("xrootd-dqm")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (json, data) = try Self.generateDQM(runs: 10, in: directory)
        let server = try XRootDServerProcess(exporting: data)
        defer { server.stop() }
        let redirector = try XRootDServerProcess(exporting: data, extraConfiguration: ["xrootd.redirect 127.0.0.1:\(server.port) \(data)"])
        defer { redirector.stop() }

        let local = try Self.fetch(json, inputs: [data], output: directory.appendingPathComponent("local"))
        let remote = try Self.fetch(json, inputs: [server.url(data) + "/"], output: directory.appendingPathComponent("remote"))
        let redirected = try Self.fetch(json, inputs: [redirector.url(data)], output: directory.appendingPathComponent("redirected"))
        #expect(local.warnings.isEmpty && remote.warnings.isEmpty && redirected.warnings.isEmpty, "\(remote.warnings) \(redirected.warnings)")
        #expect(remote.table == local.table)
        #expect(redirected.table == local.table)
        #expect(try DQMTable.runNumbers(local.table).count == 10)
    }

    @Test(.requiresXRootD) func unixAuthenticationIsUsedWhenTheServerRequiresIt() throws {
        let directory = try TestEnvironment.temporaryDirectory("xrootd-unix")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (json, data) = try Self.generateDQM(runs: 3, in: directory)
        let server = try XRootDServerProcess(exporting: data, extraConfiguration: [
            "xrootd.seclib libXrdSec.so", "sec.protocol unix", "sec.protbind * only unix",
        ])
        defer { server.stop() }
        let local = try Self.fetch(json, inputs: [data], output: directory.appendingPathComponent("local"))
        let remote = try Self.fetch(json, inputs: [server.url(data)], output: directory.appendingPathComponent("remote"))
        #expect(remote.warnings.isEmpty, "\(remote.warnings)")
        #expect(remote.table == local.table)
    }

    /// Killed after the listing: its files are reported failed once the retries are spent, and
    /// the runs on the other server are written.
    @Test(.requiresXRootD) func aServerKilledAfterTheListingFailsItsFilesAndTheOtherRunsAreWritten() throws {
        let directory = try TestEnvironment.temporaryDirectory("xrootd-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (json, data) = try Self.generateDQM(runs: 8, in: directory)
        // Half the files move to a second directory served by a second server.
        let other = directory.appendingPathComponent("other").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let files = try DQMInputDiscovery.rootFiles(in: [data]).sorted()
        for file in files.suffix(4) { try FileManager.default.moveItem(atPath: file, toPath: other + "/" + (file as NSString).lastPathComponent) }
        let kept = try XRootDServerProcess(exporting: data)
        defer { kept.stop() }
        let doomed = try XRootDServerProcess(exporting: other)
        defer { doomed.stop() }

        let listed = try DQMInputDiscovery.rootFiles(in: [kept.url(data), doomed.url(other)])
        #expect(listed.count == 8)
        // The first file of the doomed server is opened before the kill, so its connection is pooled.
        _ = try ROOTFile(path: try #require(listed.first { $0.contains(":\(doomed.port)/") }))
        doomed.kill()
        let contents = try DQMContents(json: try Data(contentsOf: URL(fileURLWithPath: json.contents)), file: json.contents)
        let datasets = try DQMDatasets(json: try Data(contentsOf: URL(fileURLWithPath: json.datasets)), file: json.datasets)
        let outcome = try #require(try DQMFetch.fetch(contents: contents, datasets: datasets, files: listed, quiet: true).first)
        #expect(outcome.runsRead == 4)
        #expect(outcome.skippedFiles.count == 4)
        for (path, reason) in outcome.skippedFiles {
            #expect(path.contains(":\(doomed.port)/"))
            #expect(reason.contains("connection to 127.0.0.1:\(doomed.port) failed after 3 attempts"), "\(reason)")
        }
    }

    /// The connection drops in the middle of the answer to one file's read, on every attempt (a
    /// proxy in front of xrootd cuts it): that file is reported failed after the bounded retry,
    /// each retry having reopened it on a fresh connection, and the other runs are written.
    /// One file at a time (HEPML_REMOTE_FILES_PER_HOST=1), so that no other file's request is in
    /// flight when the connection drops and the outcome does not depend on timing.
    @Test(.requiresXRootD) func aConnectionDroppedInTheMiddleOfAReadFailsThatFileAfterTheRetriesAndTheOtherRunsAreWritten() throws {
        let directory = try TestEnvironment.temporaryDirectory("xrootd-cut")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (json, data) = try Self.generateDQM(runs: 6, in: directory)
        let server = try XRootDServerProcess(exporting: data)
        defer { server.stop() }
        let files = try DQMInputDiscovery.rootFiles(in: [data]).sorted()
        let chosenName = (files[2] as NSString).lastPathComponent
        let proxy = try XRootDCuttingProxy(upstreamPort: server.port, cuttingReadsOf: chosenName)
        defer { proxy.stop() }
        let hepml = try #require(TestEnvironment.hepmlExecutable, "the hepml executable is built with the tests")

        let output = directory.appendingPathComponent("remote")
        let result = try TestEnvironment.run(hepml, [
            "dqm", "fetch", "--contents", json.contents, "--datasets", json.datasets, "--quiet",
            "--input", "root://127.0.0.1:\(proxy.port)/\(data)/", "--output-dir", output.path,
        ], environment: ["HEPML_REMOTE_FILES_PER_HOST": "1", "HEPML_REMOTE_RETRIES": "2"])
        #expect(result.status == 0, "\(result.output)")
        #expect(proxy.cuts == 3, "the first read and two retries, each cut")
        let skipped = result.output.split(separator: "\n").filter { $0.contains("skipped root://") }
        #expect(skipped.count == 1, "\(result.output)")
        let line = try #require(skipped.first)
        #expect(line.contains(chosenName), "\(line)")
        #expect(line.contains("connection to 127.0.0.1:\(proxy.port) failed after 3 attempts"), "\(line)")

        let local = try Self.fetch(json, inputs: [data], output: directory.appendingPathComponent("local"))
        let remote = try Parquet.read(path: output.appendingPathComponent("ZeroBias.parquet").path)
        let localRuns = try DQMTable.runNumbers(local.table)
        let remoteRuns = try DQMTable.runNumbers(remote)
        #expect(localRuns.count == 6)
        let lost = localRuns.filter { !remoteRuns.contains($0) }
        #expect(lost.count == 1 && remoteRuns.count == 5, "local \(localRuns), remote \(remoteRuns)")
        #expect(lost.allSatisfy { chosenName.contains("R000\($0)") }, "\(lost) \(chosenName)")
    }

    /// A server that answers the open with kXR_wait, and the repeated open with kXR_waitresp
    /// followed later by the deferred answer: the client waits the announced time, sends the open
    /// again, takes the asynchronous answer, and reads the file.
    @Test func kXRWaitIsWaitedOutAndAKXRWaitrespAnswerIsAwaited() throws {
        var generator = SeededGenerator(seed: 23)
        let content = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let server = try WaitingXRootDServer(content: content, waitSeconds: 1, deferral: 0.3)
        defer { server.stop() }
        let client = XRootDClient(settings: RemoteSettings(timeoutSeconds: 10, retries: 0))
        let start = Date()
        let source = try XRootDSource(url: try XRootDURL("root://127.0.0.1:\(server.port)//data/file.root"), client: client)
        let elapsed = Date().timeIntervalSince(start)
        #expect(source.size == content.count)
        #expect(try source.read(at: 10, count: 500, object: "middle") == Array(content[10..<510]))
        #expect(elapsed >= 1.3, "opened after \(elapsed) s: the kXR_wait (1 s) and the deferral (0.3 s) were not waited for")
        #expect(Array(server.requests.prefix(5)) == ["protocol", "login", "open", "open", "read"], "\(server.requests)")
    }

    @Test(.requiresXRootD) func aFileRemovedBetweenListingAndOpenIsSkippedWithTheServerError() throws {
        let directory = try TestEnvironment.temporaryDirectory("xrootd-removed")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (json, data) = try Self.generateDQM(runs: 5, in: directory)
        let server = try XRootDServerProcess(exporting: data)
        defer { server.stop() }
        let listed = try DQMInputDiscovery.rootFiles(in: [server.url(data)])
        let removed = try #require(listed.first)
        let localPath = try XRootDURL(removed).path
        try FileManager.default.removeItem(atPath: localPath)
        let contents = try DQMContents(json: try Data(contentsOf: URL(fileURLWithPath: json.contents)), file: json.contents)
        let datasets = try DQMDatasets(json: try Data(contentsOf: URL(fileURLWithPath: json.datasets)), file: json.datasets)
        let outcome = try #require(try DQMFetch.fetch(contents: contents, datasets: datasets, files: listed, quiet: true).first)
        #expect(outcome.runsRead == 4)
        let skipped = try #require(outcome.skippedFiles.first)
        #expect(skipped.path == removed)
        #expect(skipped.reason.contains("server 127.0.0.1:\(server.port) answered error 3011 (kXR_NotFound)"), "\(skipped.reason)")
    }

    /// A server that accepts the connection and never answers: a timeout naming the file, the
    /// host and the setting, not a hang.
    @Test func aStallingServerTimesOutWithAMessage() throws {
        let stalling = try StallingServer()
        defer { stalling.stop() }
        let client = XRootDClient(settings: RemoteSettings(timeoutSeconds: 0.5, retries: 1))
        let url = try XRootDURL("root://127.0.0.1:\(stalling.port)//data/file.root")
        let start = Date()
        do {
            _ = try XRootDSource(url: url, client: client)
            Issue.record("opening on a silent server succeeded")
        } catch let error as RemoteError {
            #expect(error.description.contains("no answer from 127.0.0.1:\(stalling.port)"), "\(error)")
            #expect(error.description.contains("HEPML_REMOTE_TIMEOUT"))
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func refusedConnectionsAreRetriedAFewTimesThenReported() throws {
        let port = try TestEnvironment.freeLoopbackPort()
        let client = XRootDClient(settings: RemoteSettings(timeoutSeconds: 2, retries: 2))
        let url = try XRootDURL("root://127.0.0.1:\(port)//nothing.root")
        do {
            _ = try XRootDSource(url: url, client: client)
            Issue.record("opening on a closed port succeeded")
        } catch let RemoteError.connection(_, host, _, attempts) {
            #expect(host == "127.0.0.1:\(port)" && attempts == 3)
        }
    }

    @Test func loginAnswersNameTheSecurityProtocolsAndUnsupportedOnesAreExplained() {
        #expect(XRootDConnection.securityProtocols("&P=krb5,host/eos@CERN.CH&P=gsi,v:10400,c:ssl,ca:abc&P=unix") == ["krb5", "gsi", "unix"])
        #expect(XRootDConnection.securityProtocols("") == [])
        let error = RemoteError.unsupportedAuthentication(url: "root://eos//f.root", host: "eos:1094", offered: ["krb5", "gsi"])
        #expect(error.description.contains("requires authentication by krb5, gsi"))
        #expect(error.description.contains("not yet supported"))
    }

    // MARK: Helpers

    static func generateDQM(runs: Int, in directory: URL) throws -> (json: (contents: String, datasets: String), data: String) {
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = runs
        configuration.seed = 1919
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let data = directory.appendingPathComponent("data").path
        let json = try dataset.write(to: data, quiet: true)
        try LoopbackServers.shareReadable(directory)
        return (json, data)
    }

    static func fetch(_ json: (contents: String, datasets: String), inputs: [String], output: URL) throws -> (table: Table, warnings: [String]) {
        var warnings: [String] = []
        let written = try DQMFetch.fetchToParquet(contentsFile: json.contents, datasetsFile: json.datasets, inputs: inputs,
                                                  outputDirectory: output.path, quiet: true, log: { _ in }, warn: { warnings.append($0) })
        return (try Parquet.read(path: try #require(written.first)), warnings)
    }
}
