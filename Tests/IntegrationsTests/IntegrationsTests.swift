import Foundation
import HTTPTestSupport
import IncidentCore
@testable import Integrations
import Testing

let incident = IncidentSummary(
    id: "INC-20251111-00042", title: "Prompt Injection Detected", description: "Malicious prompt <script> & co",
    status: "NEW", severity: .critical, priority: .p0, category: "security", source: "llm-shield",
    eventType: "prompt_injection", team: "security-team", escalationPolicy: "security-critical",
    url: "https://incidents.example.com/incidents/INC-20251111-00042", createdAt: "2025-11-11T10:35:00Z")

func json(_ bytes: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:]
}

@Suite struct SigningTests {
    @Test func signaturesVerifyAndTamperingIsDetected() {
        let signer = MessageSigner(secret: Array("s3cret".utf8))
        let body = Array("{\"a\":1}".utf8)
        let headers = signer.signatureHeaders(body: body, timestamp: 1_700_000_000)
        #expect(signer.verify(body: body, timestamp: "1700000000", signature: headers["X-Incident-Signature"]!))
        #expect(!signer.verify(body: Array("{\"a\":2}".utf8), timestamp: "1700000000", signature: headers["X-Incident-Signature"]!))
        #expect(!signer.verify(body: body, timestamp: "1700000001", signature: headers["X-Incident-Signature"]!))
        #expect(!MessageSigner(secret: Array("other".utf8)).verify(body: body, timestamp: "1700000000", signature: headers["X-Incident-Signature"]!))
    }
}

@Suite struct RetryPolicyTests {
    @Test func retriesTransientFailuresWithGrowingJitteredDelaysThenDeadLetters() {
        let policy = RetryPolicy(maxAttempts: 4, baseDelaySeconds: 1, maxDelaySeconds: 5)
        let failure = DeliveryOutcome.retryable(reason: "HTTP 503", retryAfterSeconds: nil)
        #expect(policy.decide(after: failure, attempt: 1, random: { 0.5 }) == .retry(afterSeconds: 0.5))
        #expect(policy.decide(after: failure, attempt: 3, random: { 0.5 }) == .retry(afterSeconds: 2))
        #expect(policy.decide(after: failure, attempt: 3, random: { 0.99 }) == .retry(afterSeconds: 3.96))
        #expect(policy.decide(after: failure, attempt: 4) == .deadLetter(reason: "HTTP 503; gave up after 4 attempts"))
        // The receiver's Retry-After is honoured as a floor.
        #expect(policy.decide(after: .retryable(reason: "HTTP 429", retryAfterSeconds: 4), attempt: 1, random: { 0 }) == .retry(afterSeconds: 4))
    }

    @Test func neverRetriesAPermanentFailure() {
        #expect(RetryPolicy().decide(after: .permanent(reason: "HTTP 400"), attempt: 1) == .deadLetter(reason: "HTTP 400"))
        #expect(DeliveryOutcome.classify(status: 400, retryAfter: nil) == .permanent(reason: "HTTP 400"))
        #expect(DeliveryOutcome.classify(status: 429, retryAfter: "2") == .retryable(reason: "HTTP 429", retryAfterSeconds: 2))
        #expect(DeliveryOutcome.classify(status: 502, retryAfter: nil) == .retryable(reason: "HTTP 502", retryAfterSeconds: nil))
    }
}

@Suite struct OutboundBudgetTests {
    @Test func p0KeepsItsReserveWhenOthersExhaustTheBudget() {
        var budget = OutboundBudget(eventsPerMinute: 120, burst: 20, p0Reserve: 5)
        var p1Sent = 0
        for _ in 0..<100 where budget.take(key: "k", priority: .p1, now: 0) == .allowed { p1Sent += 1 }
        #expect(p1Sent == 15)
        var p0Sent = 0
        for _ in 0..<10 where budget.take(key: "k", priority: .p0, now: 0) == .allowed { p0Sent += 1 }
        #expect(p0Sent == 5)
        // Another key has its own budget.
        #expect(budget.take(key: "other", priority: .p2, now: 0) == .allowed)
    }
}

@Suite struct PayloadTests {
    @Test func pagerDutyTriggerDeduplicatesOnTheIncidentID() {
        let events = PagerDutyEvents(endpoint: "http://pd.test/v2/enqueue", routingKeys: [.p0: "key-critical", .p1: "key-critical"])
        let request = events.request(.trigger, for: incident, attemptKey: "INC-20251111-00042/page")!
        let body = json(request.body)
        #expect(body["routing_key"] as? String == "key-critical")
        #expect(body["dedup_key"] as? String == "INC-20251111-00042")
        #expect(body["event_action"] as? String == "trigger")
        let payload = body["payload"] as? [String: Any]
        #expect(payload?["severity"] as? String == "critical")
        #expect(payload?["summary"] as? String == "P0: Prompt Injection Detected")
        #expect((body["links"] as? [[String: String]])?.first?["href"] == incident.url)
        let resolve = json(events.request(.resolve, for: incident, attemptKey: "x")!.body)
        #expect(resolve["event_action"] as? String == "resolve" && resolve["payload"] == nil)
        var p3 = incident
        p3.priority = .p3
        #expect(events.request(.trigger, for: p3, attemptKey: "x") == nil)
    }

    /// The integration guide's PagerDuty Event Format example, field by field.
    @Test func pagerDutyTriggerHasTheGuidesShape() throws {
        let sentinel = IncidentSummary(
            id: "INC-20251111-00042", title: "Latency Spike Detected", description: "p95 over threshold",
            status: "NEW", severity: .high, priority: .p1, category: "performance", source: "llm-sentinel",
            eventType: "anomaly", team: "platform-team", escalationPolicy: "sentinel-escalation",
            url: "https://incidents.example.com/incidents/INC-20251111-00042", createdAt: "2025-11-11T10:30:00Z",
            resource: "/v1/chat/completions", metrics: ["p95_latency_ms": 5400, "threshold_ms": 2000])
        let request = PagerDutyEvents(endpoint: "http://pd.test/v2/enqueue").request(
            .trigger, for: sentinel, routingKey: "key-level-2", dedupKey: "INC-20251111-00042:L2", attemptKey: "a")
        let body = json(request.body)
        #expect(body["routing_key"] as? String == "key-level-2")
        #expect(body["event_action"] as? String == "trigger")
        #expect(body["dedup_key"] as? String == "INC-20251111-00042:L2")
        let payload = try #require(body["payload"] as? [String: Any])
        #expect(payload["summary"] as? String == "P1: Latency Spike Detected")
        #expect(payload["source"] as? String == "llm-sentinel")
        #expect(payload["severity"] as? String == "critical")
        #expect(payload["timestamp"] as? String == "2025-11-11T10:30:00Z")
        let details = try #require(payload["custom_details"] as? [String: Any])
        #expect(details["incident_id"] as? String == "INC-20251111-00042")
        #expect(details["category"] as? String == "performance")
        #expect(details["resource"] as? String == "/v1/chat/completions")
        let metrics = try #require(details["metrics"] as? [String: Any])
        #expect((metrics["p95_latency_ms"] as? NSNumber)?.doubleValue == 5400)
        #expect((metrics["threshold_ms"] as? NSNumber)?.doubleValue == 2000)
        let links = try #require(body["links"] as? [[String: String]])
        #expect(links == [["href": "https://incidents.example.com/incidents/INC-20251111-00042",
                           "text": "View Incident"]])
        // The rest of the mapping: P0 and P1 critical, then error, warning, info.
        #expect([Priority.p0, .p1, .p2, .p3, .p4].map(PagerDutyEvents.severity(forPriority:))
                    == ["critical", "critical", "error", "warning", "info"])
    }

    @Test func slackMessageHasTheSpecsBlocksRoutingAndMentions() {
        let slack = SlackMessages(
            webhookURL: "http://slack.test/hook",
            routes: [SlackChannelRoute(priorities: [.p0, .p1], channel: "#incidents-critical"),
                     SlackChannelRoute(categories: ["security"], channel: "#security-alerts")],
            defaultChannel: "#incidents-general", mentions: [.p0: ["<!subteam^S1|oncall>"]])
        let payload = slack.payload(for: incident)
        #expect(payload["channel"] as? String == "#incidents-critical")
        let blocks = payload["blocks"] as! [[String: Any]]
        #expect(blocks.map { $0["type"] as! String } == ["header", "section", "section", "section", "actions"])
        #expect(((blocks[1]["text"] as! [String: String])["text"]) == "<!subteam^S1|oncall>")
        let description = (blocks[3]["text"] as! [String: String])["text"]!
        #expect(description.contains("&lt;script&gt; &amp; co"))
        let buttons = (blocks[4]["elements"] as! [[String: Any]])
        #expect(buttons[0]["action_id"] as? String == "acknowledge_incident" && buttons[0]["value"] as? String == incident.id)
        var p2 = incident
        p2.priority = .p2
        #expect(slack.channel(for: p2) == "#security-alerts")
        p2.category = "performance"
        #expect(slack.channel(for: p2) == "#incidents-general")
    }

    @Test func slackFallbackTextEscapesTheTitleSoItCannotPing() {
        let slack = SlackMessages(webhookURL: "http://slack.test/hook", routes: [], defaultChannel: "#incidents",
                                  mentions: [.p0: ["<!subteam^S1|oncall>"]])
        var hostile = incident
        hostile.title = "<!channel> & <https://evil.example|click>"
        let text = slack.payload(for: hostile)["text"] as! String
        #expect(text == "<!subteam^S1|oncall> P0 &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; (\(incident.id))")
        #expect(!text.contains("<!channel>"))
    }

    @Test func acknowledgedUpdateReplacesTheMessageNamingWhoAndEscapesTheirName() throws {
        let request = SlackMessages.acknowledgedUpdate(
            incidentID: incident.id, slackUser: "<!channel> alice", slackUserID: "U0ALICE", identity: "secops",
            responseURL: "https://hooks.slack.com/actions/T0/1/abc")
        #expect(request.url == "https://hooks.slack.com/actions/T0/1/abc")
        #expect(request.integration == "slack")
        let body = json(request.body)
        #expect(body["replace_original"] as? Bool == true)
        let text = try #require(body["text"] as? String)
        #expect(text.contains(incident.id) && text.contains("secops") && text.contains("<@U0ALICE>"))
        // A Slack display name is user text: it must not ping the channel from our message.
        #expect(text.contains("&lt;!channel&gt; alice") && !text.contains("<!channel>"))
        let blocks = try #require(body["blocks"] as? [[String: Any]])
        #expect(blocks.count == 2)
        #expect(!blocks.contains { $0["type"] as? String == "actions" })
    }

    @Test func templatesEscapeEventText() {
        let rendered = PayloadTemplate.render(#"{"title": "{{incident.title}}", "x": "{{ missing }}"}"#,
                                              values: ["incident.title": "a\"b\\c\nd"])
        #expect(rendered == #"{"title": "a\"b\\c\nd", "x": ""}"#)
        #expect(json(Array(rendered.utf8))["title"] as? String == "a\"b\\c\nd")
    }

    @Test func modesDefaultToMockAndCanBeOverriddenPerIntegration() {
        #expect(IntegrationMode.resolve("pagerduty", environment: [:]) == .mock)
        #expect(IntegrationMode.resolve("pagerduty", environment: ["INTEGRATIONS_MODE": "live"]) == .live)
        #expect(IntegrationMode.resolve("pagerduty", environment: ["INTEGRATIONS_MODE": "live", "PAGERDUTY_MODE": "mock"]) == .mock)
    }
}

@Suite(.serialized) struct LiveDeliveryTests {
    @Test func signedWebhookReachesARealReceiverWithItsHeaders() async throws {
        let receiver = try LoopbackHTTPReceiver()
        defer { receiver.stop() }
        let signer = MessageSigner(secret: Array("hook-secret".utf8))
        let hook = Webhook(name: "siem", url: receiver.url + "/hooks/incidents",
                           triggers: [.incidentCreated: [.p0, .p1]], headers: ["X-Source": "llm-incident-manager"],
                           bearerToken: "tok-123", signer: signer)
        #expect(hook.fires(on: .incidentCreated, priority: .p0))
        #expect(!hook.fires(on: .incidentCreated, priority: .p3))
        #expect(!hook.fires(on: .incidentResolved, priority: .p0))
        let request = hook.request(.incidentCreated, for: incident, timestamp: "2025-11-11T10:35:00Z", now: 1_700_000_000)
        let outcome = await LiveHTTPDelivery().deliver(request)
        #expect(outcome == .delivered(status: 202))
        let got = try #require(receiver.received.first)
        #expect(got.path == "/hooks/incidents" && got.method == "POST")
        #expect(got.headers["authorization"] == "Bearer tok-123")
        #expect(got.headers["x-source"] == "llm-incident-manager")
        #expect(got.headers["idempotency-key"] == "INC-20251111-00042/incident_created/siem")
        #expect(signer.verify(body: got.body, timestamp: got.headers["x-incident-timestamp"]!, signature: got.headers["x-incident-signature"]!))
        #expect((json(got.body)["incident"] as? [String: Any])?["id"] as? String == incident.id)
    }

    @Test func serverErrorsAndTimeoutsAreRetryableAndBadRequestsAreNot() async throws {
        let receiver = try LoopbackHTTPReceiver()
        defer { receiver.stop() }
        receiver.script([.init(status: 503), .init(status: 429, headers: ["Retry-After": "3"]),
                         .init(status: 200, delaySeconds: 3), .init(status: 400), .init(status: 200)])
        let delivery = LiveHTTPDelivery()
        let endpoint = RemediationEndpoint(action: "block_user", url: receiver.url + "/admin/block",
                                           signer: MessageSigner(secret: Array("k".utf8)), timeoutSeconds: 1)
        let request = endpoint.request(actionID: "INC-1/block_user#1", incidentID: "INC-1", parameters: ["user_id": "user-789"], now: 1)
        let t0 = ContinuousClock.now
        #expect(await delivery.deliver(request) == .retryable(reason: "HTTP 503", retryAfterSeconds: nil))
        #expect(await delivery.deliver(request) == .retryable(reason: "HTTP 429", retryAfterSeconds: 3))
        guard case .retryable(let reason, _) = await delivery.deliver(request) else { Issue.record("timeout not retryable"); return }
        #expect(reason.contains("timed out"))
        #expect(ContinuousClock.now - t0 >= .milliseconds(900), "the timeout cut the slow reply short")
        #expect(await delivery.deliver(request) == .permanent(reason: "HTTP 400"))
        #expect(await delivery.deliver(request) == .delivered(status: 200))
        // Every attempt carried the same idempotency key, so the receiver can act once.
        #expect(Set(receiver.received.map { $0.headers["idempotency-key"] }) == ["INC-1/block_user#1"])
        #expect((json(receiver.received[0].body)["parameters"] as? [String: String]) == ["user_id": "user-789"])
    }

    @Test func nothingListeningIsRetryable() async {
        let outcome = await LiveHTTPDelivery().deliver(OutboundRequest(integration: "x", url: "http://127.0.0.1:9/", body: [], idempotencyKey: "k", timeoutSeconds: 2))
        guard case .retryable = outcome else { Issue.record("expected retryable, got \(outcome)"); return }
    }

    @Test func plainHTTPIsRefusedExceptToLoopback() async {
        for url in ["http://example.com/hook", "http://10.0.0.1/hook", "ftp://127.0.0.1/x", "http://127.0.0.1.example.com/x"] {
            let outcome = await LiveHTTPDelivery().deliver(
                OutboundRequest(integration: "x", url: url, body: [], idempotencyKey: "k", timeoutSeconds: 2))
            guard case .permanent(let reason) = outcome else { Issue.record("\(url): expected permanent, got \(outcome)"); continue }
            #expect(reason.contains("https"), "\(url): \(reason)")
        }
        #expect(LiveHTTPDelivery.isLoopback(host: "127.0.0.1") && LiveHTTPDelivery.isLoopback(host: "127.9.0.3"))
        #expect(LiveHTTPDelivery.isLoopback(host: "localhost") && LiveHTTPDelivery.isLoopback(host: "::1"))
        #expect(LiveHTTPDelivery.isLoopback(host: "[::1]"))
        #expect(!LiveHTTPDelivery.isLoopback(host: "127.0.0.1.example.com") && !LiveHTTPDelivery.isLoopback(host: "10.0.0.1"))
    }

    @Test func redirectsToAnotherOriginAreNotFollowed() async throws {
        let receiver = try LoopbackHTTPReceiver()
        let elsewhere = try LoopbackHTTPReceiver()
        defer { receiver.stop(); elsewhere.stop() }
        receiver.script([.init(status: 307, headers: ["Location": elsewhere.url + "/stolen"])], path: "/hook")
        let outcome = await LiveHTTPDelivery().deliver(
            OutboundRequest(integration: "x", url: receiver.url + "/hook", body: Array("{}".utf8), idempotencyKey: "k",
                            timeoutSeconds: 2))
        guard case .permanent(let reason) = outcome else { Issue.record("expected permanent, got \(outcome)"); return }
        #expect(reason.contains("redirect"))
        #expect(elsewhere.received.isEmpty, "the body went to the other origin")
    }

    @Test func redirectsWithinTheSameOriginAreFollowed() async throws {
        let receiver = try LoopbackHTTPReceiver()
        defer { receiver.stop() }
        receiver.script([.init(status: 307, headers: ["Location": receiver.url + "/moved"])], path: "/hook")
        let outcome = await LiveHTTPDelivery().deliver(
            OutboundRequest(integration: "x", url: receiver.url + "/hook", body: Array("{}".utf8), idempotencyKey: "k",
                            timeoutSeconds: 2))
        #expect(outcome == .delivered(status: 202))
        #expect(receiver.received(path: "/moved").count == 1)
    }

    @Test func mockModeRecordsInsteadOfSending() async {
        let mock = RecordingHTTPDelivery()
        let events = PagerDutyEvents(routingKeys: [.p0: "k"])
        let outcome = await mock.deliver(events.request(.trigger, for: incident, attemptKey: "a")!)
        #expect(outcome == .delivered(status: 202))
        #expect(mock.requests.map(\.integration) == ["pagerduty"])
    }
}
