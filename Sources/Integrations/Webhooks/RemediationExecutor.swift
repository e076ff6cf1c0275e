// Calls the endpoint that carries out a remediation action (e.g. LLM-Shield's admin API): a signed JSON
// body with an idempotency key, so the receiver acts once however often we retry.
import Foundation

/// Where and how one kind of remediation action is executed.
public struct RemediationEndpoint: Sendable {
    /// The action kind it executes (`block_user`, `rate_limit`, a custom name, or a compensation such as `unblock_user`).
    public var action: String
    public var url: String
    public var signer: MessageSigner
    public var timeoutSeconds: Double

    public init(action: String, url: String, signer: MessageSigner, timeoutSeconds: Double = 5) {
        self.action = action
        self.url = url
        self.signer = signer
        self.timeoutSeconds = timeoutSeconds
    }

    /// The request for one action. `actionID` is stable for the action, so it is the idempotency key.
    public func request(actionID: String, incidentID: String, parameters: [String: String], now: Int) -> OutboundRequest {
        let object: [String: Any] = [
            "action": action, "action_id": actionID, "incident_id": incidentID, "parameters": parameters,
        ]
        let body = Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
        var headers = signer.signatureHeaders(body: body, timestamp: now)
        headers["Content-Type"] = "application/json"
        return OutboundRequest(integration: "remediation:\(action)", url: url, headers: headers, body: body,
                               idempotencyKey: actionID, timeoutSeconds: timeoutSeconds)
    }
}
