// One HTTP request to the outside world and what came of it.
import Foundation

/// An HTTP request an integration sends: a page, a Slack message, a webhook, a remediation call.
public struct OutboundRequest: Sendable, Hashable {
    /// Which integration sends it (`pagerduty`, `slack`, `webhook:siem`, `remediation:block_user`).
    public var integration: String
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]
    /// The same key on every attempt, so a receiver that saw an earlier attempt acts once.
    public var idempotencyKey: String
    /// Seconds before the attempt counts as failed.
    public var timeoutSeconds: Double

    public init(
        integration: String, method: String = "POST", url: String, headers: [String: String] = [:], body: [UInt8],
        idempotencyKey: String, timeoutSeconds: Double = 10
    ) {
        self.integration = integration
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.idempotencyKey = idempotencyKey
        self.timeoutSeconds = timeoutSeconds
    }
}

/// What an attempt achieved, classified for the retry logic.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The receiver took it (2xx).
    case delivered(status: Int)
    /// Worth trying again: 429, 5xx, a timeout or a connection failure. `retryAfter` is the receiver's hint.
    case retryable(reason: String, retryAfterSeconds: Double?)
    /// Trying again cannot help (4xx other than 408/429): dead-letter it.
    case permanent(reason: String)

    /// Classifies an HTTP status.
    public static func classify(status: Int, retryAfter: String?) -> DeliveryOutcome {
        switch status {
        case 200..<300: return .delivered(status: status)
        case 408, 425, 429, 500..<600:
            return .retryable(reason: "HTTP \(status)", retryAfterSeconds: retryAfter.flatMap(Double.init))
        default: return .permanent(reason: "HTTP \(status)")
        }
    }
}

/// An attempt's outcome with the body that came back, for integrations that read the answer (Jira's issue key).
public struct HTTPAnswer: Sendable, Hashable {
    public var outcome: DeliveryOutcome
    /// The response body (empty when none came, and always in mock mode).
    public var body: [UInt8]

    public init(outcome: DeliveryOutcome, body: [UInt8] = []) {
        self.outcome = outcome
        self.body = body
    }
}

/// Sends outbound requests. `LiveHTTPDelivery` talks to the network; `RecordingHTTPDelivery` (mock mode)
/// records what would have been sent.
public protocol HTTPDelivery: Sendable {
    func deliver(_ request: OutboundRequest) async -> DeliveryOutcome
    /// Like `deliver`, keeping the response body; deliveries that never see one answer with an empty body.
    func exchange(_ request: OutboundRequest) async -> HTTPAnswer
}

extension HTTPDelivery {
    public func exchange(_ request: OutboundRequest) async -> HTTPAnswer {
        HTTPAnswer(outcome: await deliver(request))
    }
}

/// Whether an integration acts on the world or only records what it would have done.
public enum IntegrationMode: String, Sendable, CaseIterable {
    case live
    case mock

    /// The mode for one integration: its own variable (`PAGERDUTY_MODE`) over the global
    /// `INTEGRATIONS_MODE`, which defaults to `mock` so a development server pages nobody.
    public static func resolve(_ integration: String, environment: [String: String]) -> IntegrationMode {
        let own = environment["\(integration.uppercased())_MODE"].flatMap { IntegrationMode(rawValue: $0.lowercased()) }
        let global = environment["INTEGRATIONS_MODE"].flatMap { IntegrationMode(rawValue: $0.lowercased()) }
        return own ?? global ?? .mock
    }
}
