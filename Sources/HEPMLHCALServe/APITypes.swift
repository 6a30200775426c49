import Foundation

// The JSON documents of the HTTP API (docs/hcal-serve.md, docs/hcal-serve-openapi.json), with
// their snake_case keys spelled out: the dashboard and the OpenAPI document are written against them.

/// The reply to an ingestion: the LS's result after its commit and the stored LS re-scored with it.
public struct HCALIngestReply: Codable, Sendable, Equatable {
    public var run: Int
    public var ls: Int
    public var flagged: Int
    public var maxScore: Double
    public var windowComplete: Bool
    public var missingLS: [Int]
    public var rescored: [Int]

    enum CodingKeys: String, CodingKey {
        case run, ls, flagged, rescored
        case maxScore = "max_score", windowComplete = "window_complete", missingLS = "missing_ls"
    }
}

/// One row of `GET /api/runs`.
public struct HCALRunSummary: Codable, Sendable, Equatable {
    public var run: Int
    public var lumisections: Int
    public var firstLS: Int
    public var lastLS: Int
    public var flaggedLumisections: Int
    public var updated: String

    enum CodingKeys: String, CodingKey {
        case run, lumisections, updated
        case firstLS = "first_ls", lastLS = "last_ls", flaggedLumisections = "flagged_lumisections"
    }
}

/// One row of `GET /api/runs/{run}/lumisections`.
public struct HCALLumisectionSummary: Codable, Sendable, Equatable {
    public var ls: Int
    public var numEvents: Int
    public var totalOccupancy: Double
    public var flagged: Int
    public var maxScore: Double
    public var windowComplete: Bool
    public var missingLS: [Int]

    enum CodingKeys: String, CodingKey {
        case ls, flagged
        case numEvents = "num_events", totalOccupancy = "total_occupancy", maxScore = "max_score"
        case windowComplete = "window_complete", missingLS = "missing_ls"
    }
}

/// One flagged channel of an LS, in physical coordinates.
public struct HCALFlaggedChannel: Codable, Sendable, Equatable {
    public var ieta: Int
    public var iphi: Int
    public var depth: Int
    public var score: Double
}

/// One depth of an LS's occupancy or score map as rows of ieta (−32…32 without 0) × iphi 1…72;
/// null on channels outside the model's mask.
public struct HCALMapReply: Codable, Sendable, Equatable {
    public var kind: String
    public var depth: Int
    public var ieta: [Int]
    public var iphi: [Int]
    public var values: [[Double?]]
    public var min: Double
    public var max: Double
}

/// The data of the `lumisection` Server-Sent Event, sent after every commit of an LS's result.
public struct HCALLumisectionEvent: Codable, Sendable, Equatable {
    public var run: Int
    public var ls: Int
    public var flagged: Int
    public var maxScore: Double
    public var numEvents: Int

    enum CodingKeys: String, CodingKey {
        case run, ls, flagged
        case maxScore = "max_score", numEvents = "num_events"
    }
}

/// `GET /healthz`.
public struct HCALHealth: Codable, Sendable, Equatable {
    public var status: String
    public var model: String
    public var subdetector: String
    public var depths: Int
    /// The flag threshold on |e|/σ.
    public var threshold: Double
    public var runs: Int
    public var lumisections: Int
}

/// Every error reply: `{"error": "<message>"}` with a 4xx or 5xx status.
public struct HCALErrorReply: Codable, Sendable, Equatable {
    public var error: String
}
