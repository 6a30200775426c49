import Testing
@testable import HEPMLRemote

@Suite struct RemoteLocationTests {
    @Test func parsesXRootDURLs() throws {
        let url = try XRootDURL("root://eoscms.cern.ch//eos/cms/store/file.root")
        #expect(url.host == "eoscms.cern.ch")
        #expect(url.port == 1094)
        #expect(url.path == "/eos/cms/store/file.root")
        #expect(url.description == "root://eoscms.cern.ch//eos/cms/store/file.root")
        let withPort = try XRootDURL("root://user@127.0.0.1:21094//tmp/x.root?authz=abc")
        #expect(withPort.user == "user")
        #expect(withPort.port == 21094)
        #expect(withPort.opaque == "authz=abc")
        let ipv6 = try XRootDURL("xroot://[::1]:1095//data/")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 1095)
        #expect(ipv6.path == "/data/")
    }

    @Test func rejectsMalformedURLs() {
        #expect(throws: RemoteError.self) { try XRootDURL("root://host") }
        #expect(throws: RemoteError.self) { try XRootDURL("root://host:99999//x") }
        #expect(throws: RemoteError.self) { try XRootDURL("root://:1094//x") }
        #expect(throws: RemoteError.self) { try RemoteLocation("s3://bucket/key") }
    }

    @Test func classifiesLocations() throws {
        #expect(try RemoteLocation("/tmp/a.root") == .local(path: "/tmp/a.root"))
        #expect(try RemoteLocation("davs://eoscms.cern.ch:443/eos/x.root") == .http(url: "https://eoscms.cern.ch:443/eos/x.root"))
        #expect(try RemoteLocation("https://h/x.root") == .http(url: "https://h/x.root"))
    }
}
