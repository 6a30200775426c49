import Foundation
import HEPMLHCAL
import ServiceLifecycle

/// `--watch DIR`: Hcal4DQMAnalyzer-layout ROOT files that appear or grow in a directory are read
/// by key (`HCALRunMaps`) and every lumisection not yet ingested from them is ingested. A file
/// that does not parse (still being written) is tried again at the next scan. While a file keeps
/// changing its highest LS may still be filling, so that LS waits until the file is unchanged
/// for one scan.
struct HCALDirectoryWatcher: Service {
    let directory: String
    let mask: HCALMask
    let ingest: @Sendable (HCALIngestion) async throws -> HCALIngestOutcome
    let log: @Sendable (String) -> Void
    var interval: Duration = .seconds(1)

    /// What the watcher knows of one file.
    private struct FileState {
        var size: UInt64 = 0
        var modified = Date.distantPast
        /// (run, LS) already ingested or refused from this file.
        var done: Set<String> = []
        /// The file parsed at its current size and all its LS are done.
        var complete = false
        var lastError: String?
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var files: [String: FileState] = [:]
            while true {
                await scan(&files)
                try await Task.sleep(for: interval)
            }
        }
    }

    private func scan(_ files: inout [String: FileState]) async {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".root") }.sorted()
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let size = (attributes[.size] as? NSNumber)?.uint64Value, let modified = attributes[.modificationDate] as? Date else { continue }
            var state = files[path] ?? FileState()
            let settled = size == state.size && modified == state.modified
            state.size = size
            state.modified = modified
            if settled && state.complete {
                files[path] = state
                continue
            }
            let maps: HCALRunMaps
            do {
                maps = try HCALRunMaps(file: path, subdetector: mask.subdetector, mask: mask)
            } catch {
                let message = "\(error)"
                if message != state.lastError { log("watch: \(path) not readable yet (\(message)); trying again") }
                state.lastError = message
                files[path] = state
                continue
            }
            state.lastError = nil
            let width = maps.channelCount
            let newest = maps.lumisections.last
            for (row, ls) in maps.lumisections.enumerated() {
                let key = "\(maps.run):\(ls)"
                guard !state.done.contains(key), settled || ls != newest else { continue }
                let ingestion = HCALIngestion(run: maps.run, ls: ls, raw: Array(maps.occupancy[(row * width)..<((row + 1) * width)]), numEvents: maps.numEvents[row])
                do {
                    _ = try await ingest(ingestion)
                    state.done.insert(key)
                } catch let error as HCALServeError where (400..<500).contains(error.status) {
                    log("watch: \(path) run \(maps.run) LS \(ls) refused: \(error.message)")
                    state.done.insert(key)
                } catch {
                    log("watch: \(path) run \(maps.run) LS \(ls) not ingested (\(error)); trying again")
                }
            }
            state.complete = settled && maps.lumisections.allSatisfy { state.done.contains("\(maps.run):\($0)") }
            files[path] = state
        }
    }
}
