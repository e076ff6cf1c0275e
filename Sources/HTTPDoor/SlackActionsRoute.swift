// Slack's interactive-button callback: `POST /api/v1/integrations/slack/actions`, a form body `payload=<JSON>`
// signed with the app's signing secret. The signature (and its freshness, and that it was not seen before) is the
// only credential, so it is checked before the body is read as anything; the Slack user then acts as the identity
// `notifications.slack.user_mapping` names, through the same intake update as REST and gRPC, so the same
// permission and status rules apply. Slack wants an answer within 3 s: the message update (`response_url`) goes
// out after the answer, through the integrations' delivery (live or mock, https only except loopback).
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import IncidentServer
import Integrations
import NIOCore
import Synchronization

/// Verifies Slack's button callbacks and acknowledges incidents as the mapped identity.
struct SlackActionsRoute: Sendable {
    let intake: IncidentIntake
    let maxBodyBytes: Int
    let log: ServerLog
    /// Nil when no signing secret is configured or its variable is empty: every callback is then refused.
    private let verifier: SlackRequestVerifier?
    private let delivery: any HTTPDelivery
    private let mode: IntegrationMode
    private let seen: SeenSignatures
    private let now: @Sendable () -> Int

    /// `environment` expands the `${VAR}` signing secret and picks live or mock (`SLACK_MODE` over
    /// `INTEGRATIONS_MODE`), as the job pipeline does for the outgoing messages.
    init(intake: IncidentIntake, maxBodyBytes: Int, log: ServerLog, environment: [String: String],
         now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.intake = intake
        self.maxBodyBytes = maxBodyBytes
        self.log = log
        let secret = intake.config.notifications.slack.signingSecret.map { expandEnvironment($0, environment) } ?? ""
        // An empty secret would make the HMAC forgeable by anyone: no secret, no callback.
        let verifier = secret.isEmpty ? nil : SlackRequestVerifier(signingSecret: Array(secret.utf8))
        self.verifier = verifier
        let mode = IntegrationMode.resolve("slack", environment: environment)
        self.mode = mode
        if mode == .live { delivery = LiveHTTPDelivery() } else { delivery = RecordingHTTPDelivery(limit: 100) }
        seen = SeenSignatures(windowSeconds: 2 * (verifier?.maxSkewSeconds ?? 300))
        self.now = now
    }

    func add(to router: Router<DoorContext>) {
        router.post("/api/v1/integrations/slack/actions") { request, _ in try await self.handle(request) }
    }

    private func handle(_ request: Request) async throws -> Response {
        let body = try await IncidentRoutes.body(of: request, limit: maxBodyBytes)
        guard let verifier else {
            throw DoorError(.unauthorized, "unauthenticated", "no Slack signing secret is configured")
        }
        let timestamp = request.headers[HTTPField.Name("X-Slack-Request-Timestamp")!]
        let signature = request.headers[HTTPField.Name("X-Slack-Signature")!]
        let at = now()
        do {
            try verifier.verify(body: body, timestamp: timestamp, signature: signature, now: at)
        } catch {
            // The refusal's text names no secret or signature; the body is never logged.
            log.info("slack action refused: \(error.description)")
            throw DoorError(.unauthorized, "unauthenticated", error.description)
        }
        // Within the 5-minute window a captured request would verify again: each signature acts once.
        guard let signature, seen.insert(signature, at: at) else {
            log.info("slack action refused: replayed request")
            throw DoorError(.unauthorized, "unauthenticated", "this request was already received (replayed)")
        }
        guard let action = SlackBlockAction(formBody: body) else {
            return Self.ephemeral("Sorry, that request could not be read.")
        }
        guard action.actionID == "acknowledge_incident" else {
            return Self.ephemeral("Action \(action.actionID.prefix(64)) is unsupported.")
        }
        guard let name = intake.config.notifications.slack.userMapping[action.userID],
              let identity = intake.config.identities.first(where: { $0.name == name }) else {
            log.info("slack action from unmapped user \(action.userID.prefix(32)): nothing changed")
            return Self.ephemeral("Your Slack user (\(action.userID.prefix(32))) is not mapped to an identity of the "
                                  + "incident manager, so nothing was changed. Ask an administrator to add it to "
                                  + "notifications.slack.user_mapping.")
        }
        let incidentID = action.value
        let note = "Acknowledged via Slack by \(action.userName) (\(action.userID))"
        do {
            _ = try await intake.update(
                UpdateChangeRequest(incidentID: incidentID, status: "ACKNOWLEDGED", note: note), by: identity)
        } catch let refusal as DomainError {
            // Already acknowledged (or further along) is a status rule, answered like any other refusal: unchanged.
            if refusal.code == .failedPrecondition && refusal.message.contains("from ACKNOWLEDGED to") {
                return Self.ephemeral("\(incidentID.prefix(64)) is already acknowledged; nothing changed.")
            }
            log.info("slack acknowledge of \(incidentID.prefix(64)) by \(identity.name) refused: \(refusal.message)")
            return Self.ephemeral("Could not acknowledge \(incidentID.prefix(64)): \(refusal.message)")
        }
        log.info("slack acknowledge of \(incidentID) by \(identity.name) (slack user \(action.userID))",
                 ["incident_id": incidentID])
        if let responseURL = action.responseURL {
            let update = SlackMessages.acknowledgedUpdate(
                incidentID: incidentID, slackUser: action.userName, slackUserID: action.userID,
                identity: identity.name, responseURL: responseURL)
            let delivery = delivery, log = log, mode = mode
            // After the answer: Slack times the callback out at 3 s, and the update may need retries.
            Task.detached { await Self.send(update, through: delivery, mode: mode, log: log) }
        }
        return Self.ephemeral("Acknowledged \(incidentID) as \(identity.name).")
    }

    /// Delivers the message update with a few quick retries (a `response_url` is valid for 30 minutes); the URL is
    /// not logged, as it is a credential for the message.
    private static func send(_ update: OutboundRequest, through delivery: any HTTPDelivery, mode: IntegrationMode,
                             log: ServerLog) async {
        let policy = RetryPolicy(maxAttempts: 4, baseDelaySeconds: 1, maxDelaySeconds: 10)
        var attempt = 0
        while true {
            attempt += 1
            let outcome = await delivery.deliver(update)
            switch policy.decide(after: outcome, attempt: attempt) {
            case .done:
                log.info((mode == .mock ? "mock slack: would update" : "slack: updated")
                         + " the message of \(update.idempotencyKey), \(update.body.count) bytes")
                return
            case .deadLetter(let reason):
                log.error("slack: message update \(update.idempotencyKey) failed: \(reason)")
                return
            case .retry(let seconds):
                try? await Task.sleep(for: .seconds(seconds))
            }
        }
    }

    /// Slack shows `text` to the presser only; the status is 200 so Slack shows it at all.
    static func ephemeral(_ text: String) -> Response {
        let object: [String: Any] = ["response_type": "ephemeral", "replace_original": false, "text": text]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The parts of a `block_actions` payload a button press needs.
struct SlackBlockAction: Sendable, Hashable {
    var userID: String
    var userName: String
    var actionID: String
    var value: String
    var responseURL: String?

    /// Reads `payload=<JSON>` out of the form body; nil when it is not a block action with a user and an action.
    init?(formBody: [UInt8]) {
        let form = String(decoding: formBody, as: UTF8.self)
        var payloadText: String?
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "payload" else { continue }
            payloadText = parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        guard let payloadText,
              let object = try? JSONSerialization.jsonObject(with: Data(payloadText.utf8)) as? [String: Any],
              let user = object["user"] as? [String: Any], let userID = user["id"] as? String, !userID.isEmpty,
              let action = (object["actions"] as? [[String: Any]])?.first,
              let actionID = action["action_id"] as? String else { return nil }
        self.userID = userID
        self.userName = (user["username"] as? String) ?? (user["name"] as? String) ?? userID
        self.actionID = actionID
        self.value = (action["value"] as? String) ?? ""
        self.responseURL = (object["response_url"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Signatures seen within the freshness window, so a captured request cannot be played again while it is fresh.
final class SeenSignatures: Sendable {
    private let entries = Mutex<[String: Int]>([:])
    private let windowSeconds: Int

    init(windowSeconds: Int) {
        self.windowSeconds = windowSeconds
    }

    /// True when `signature` is new (and is now remembered); false for a replay.
    func insert(_ signature: String, at now: Int) -> Bool {
        entries.withLock { entries in
            // Older than the window the verifier already refuses as stale, so they need not be remembered.
            if entries.count > 1024 { entries = entries.filter { now - $0.value <= windowSeconds } }
            guard entries[signature] == nil else { return false }
            entries[signature] = now
            return true
        }
    }
}
