// Who may call what: the default identities' permissions, unknown certificates, and per-identity rate limits
// with a retry-after trailer.
import Foundation
import IncidentAPI
import IncidentCore
import RPC
import Testing

@Suite("Authorization and rate limits", .enabled(if: TestDatabase.shouldRun), .serialized)
struct AuthorizationTests {
    enum Call: String, CaseIterable {
        case create, get, update, list
    }

    /// Makes `call` as `identity` against an existing incident; nil on success, else the status.
    func attempt(_ call: Call, as identity: String, harness: ServiceHarness, incident: String) async throws -> StatusCode? {
        let client = try harness.client(identity)
        let error = await status {
            switch call {
            case .create: _ = try await client.createIncident(Sample.event(), options: .test)
            case .get: _ = try await client.getIncident(.with(id: incident), options: .test)
            case .update: _ = try await client.updateIncident(.with(id: incident, note: "checked"), options: .test)
            case .list: _ = try await client.listIncidents(ListIncidentsRequest(), options: .test)
            }
        }
        return error?.code
    }

    @Test("llm-shield creates, secops does everything, viewer reads, strangers nothing")
    func matrix() async throws {
        let harness = try await ServiceHarness.start()
        let incident = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test).incidentId
        let allowed: [String: Set<Call>] = [
            "llm-shield": [.create],
            "secops": Set(Call.allCases),
            "viewer": [.get, .list],
            "stranger": [],
        ]
        for (identity, permitted) in allowed.sorted(by: { $0.key < $1.key }) {
            for call in Call.allCases {
                let outcome = try await attempt(call, as: identity, harness: harness, incident: incident)
                if permitted.contains(call) {
                    #expect(outcome == nil, "\(identity) \(call)")
                } else {
                    #expect(outcome == .permissionDenied, "\(identity) \(call)")
                }
            }
        }
        await harness.stop()
    }

    @Test("an identity over its rate limit gets RESOURCE_EXHAUSTED with a retry-after trailer; others do not")
    func rateLimit() async throws {
        var config = ServiceHarness.defaultConfig
        // One token a minute: the test cannot refill in time, however slow the machine.
        config.identities[0] = IdentityPolicy(name: "llm-shield", permissions: [.eventCreate],
                                              rateLimit: RateLimit(requestsPerMinute: 1, burst: 2))
        let harness = try await ServiceHarness.start(config: config)
        let shield = try harness.client("llm-shield")
        _ = try await shield.createIncident(Sample.event(), options: .test)
        _ = try await shield.createIncident(Sample.event(), options: .test)
        let refused = await status { _ = try await shield.createIncident(Sample.event(), options: .test) }
        #expect(refused?.code == .resourceExhausted)
        let retryAfter = refused?.trailingMetadata.first("retry-after").flatMap(Int.init)
        #expect(retryAfter != nil && retryAfter! >= 1 && retryAfter! <= 60)
        // secops has no limit.
        for _ in 0..<4 {
            _ = try await harness.client("secops").createIncident(Sample.event(), options: .test)
        }
        let page = try await harness.client("secops").listIncidents(ListIncidentsRequest(), options: .test)
        #expect(page.incidents.count == 6)
        await harness.stop()
    }
}
