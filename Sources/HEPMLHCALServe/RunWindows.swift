import Foundation

/// One run's temporal scoring state, keyed by LS number so that the order of arrival does not
/// matter: LS n is scored with the window LS n − T + 1 … n; slots below LS 1 repeat LS 1 (as the
/// batch scorer pads a run's start). A slot whose LS has not arrived is a gap: the nearest earlier
/// available LS of the window fills it (else the nearest later), and the result lists it as
/// missing, so that its arrival re-scores every stored LS that lacked it.
struct HCALRunWindows {
    let steps: Int
    /// Scaled maps of the kept LS (the newest `keep` LS numbers of the run).
    var maps: [Int: [Float]] = [:]
    /// Every stored LS of the run.
    var stored: Set<Int> = []
    /// Stored LS whose window had gaps, with the LS that were missing.
    var missing: [Int: [Int]] = [:]

    init(steps: Int) { self.steps = steps }

    /// The scaled window `[T, 64, 72, depths]` of LS `ls` (whose map must be kept) and the LS
    /// numbers its gaps stand for, ascending.
    func window(for ls: Int) -> (window: [Float], missing: [Int]) {
        let slots = (0..<steps).map { max(ls - steps + 1 + $0, 1) }
        let sources = slots.map { maps[$0] }
        var window: [Float] = []
        for (index, source) in sources.enumerated() {
            let filler = source ?? sources[..<index].reversed().compactMap { $0 }.first ?? sources[(index + 1)...].compactMap { $0 }.first
            window += filler ?? []
        }
        let missing = Set(zip(slots, sources).filter { $0.1 == nil }.map(\.0)).sorted()
        return (window, missing)
    }

    /// Stored LS whose windows lacked one of `arrived` (and are not among them): the LS to
    /// re-score. An LS whose own map is no longer kept keeps its result.
    func lumisectionsWaiting(for arrived: Set<Int>) -> [Int] {
        missing.filter { !arrived.contains($0.key) && maps[$0.key] != nil && !arrived.isDisjoint(with: $0.value) }.map(\.key).sorted()
    }

    /// Keeps the maps of the newest `keep` LS numbers.
    mutating func prune(keep: Int) {
        guard maps.count > keep else { return }
        for ls in maps.keys.sorted().dropLast(keep) { maps[ls] = nil }
    }
}
