// Pure rules for approvals (decide, expire) and the config keys of the timers (escalation policies, SLA targets).
import Foundation
import Testing
@testable import IncidentCore

@Suite struct ActionApprovalTests {
    let created = Date(timeIntervalSince1970: 1_000_000)
    var actions: [RemediationAction] {
        [RemediationAction(id: "A1", kind: "block_user", state: .awaitingApproval,
                           params: ["user_id": "u1", "approval_ttl_seconds": "60"]),
         RemediationAction(id: "A2", kind: "rate_limit", state: .pending)]
    }

    @Test func approveAndRejectRecordWhoAndWhy() throws {
        var list = actions
        let approved = try ActionApproval.decide(.approve, actionID: "A1", reason: "", actor: "secops",
                                                 now: created + 10, incidentCreatedAt: created, actions: &list)
        #expect(approved.state == .approved && approved.params["decided_by"] == "secops")
        #expect(approved.params["reason"] == nil && approved.params["user_id"] == "u1")
        #expect(list[0] == approved)

        var other = actions
        let rejected = try ActionApproval.decide(.reject, actionID: "A1", reason: "red team", actor: "alice",
                                                 now: created + 59, incidentCreatedAt: created, actions: &other)
        #expect(rejected.state == .rejected && rejected.params["reason"] == "red team")
    }

    @Test func refusals() {
        var list = actions
        #expect(throws: ApprovalError.unknownAction(id: "A9")) {
            try ActionApproval.decide(.approve, actionID: "A9", reason: "", actor: "s", now: created,
                                      incidentCreatedAt: created, actions: &list)
        }
        #expect(throws: ApprovalError.notAwaitingApproval(id: "A2", state: .pending)) {
            try ActionApproval.decide(.approve, actionID: "A2", reason: "", actor: "s", now: created,
                                      incidentCreatedAt: created, actions: &list)
        }
        #expect(throws: ApprovalError.expired(id: "A1", at: created + 60)) {
            try ActionApproval.decide(.approve, actionID: "A1", reason: "", actor: "s", now: created + 60,
                                      incidentCreatedAt: created, actions: &list)
        }
        #expect(list == actions, "a refused decision changes nothing")
    }

    @Test func expiryDeniesOnlyWhatStillWaits() throws {
        var list = actions
        let denied = ActionApproval.expire(actionID: "A1", now: created + 61, actions: &list)
        #expect(denied?.state == .denied && denied?.params["reason"] == "approval expired")
        #expect(ActionApproval.expire(actionID: "A1", now: created + 62, actions: &list) == nil)
        #expect(ActionApproval.expire(actionID: "A2", now: created + 62, actions: &list) == nil)
        #expect(ActionApproval.expire(actionID: "A9", now: created + 62, actions: &list) == nil)
        #expect(throws: ApprovalError.notAwaitingApproval(id: "A1", state: .denied)) {
            try ActionApproval.decide(.reject, actionID: "A1", reason: "", actor: "s", now: created + 63,
                                      incidentCreatedAt: created, actions: &list)
        }
        // An explicit expiry time wins over the TTL; no TTL means it never expires.
        let explicit = RemediationAction(id: "A3", kind: "webhook", state: .awaitingApproval,
                                         params: ["approval_ttl_seconds": "60", "approval_expires_at": "1000300"])
        #expect(ActionApproval.expiry(of: explicit, incidentCreatedAt: created) == created + 300)
        #expect(ActionApproval.expiry(of: actions[1], incidentCreatedAt: created) == nil)
    }
}

@Suite struct TimerConfigTests {
    @Test func escalationPoliciesAndSLAFromYAML() throws {
        let config = try ServiceConfig.parse(yaml: """
            integrations:
              llm-shield:
                routing:
                  escalation_policy: security-critical
                  escalation_policies:
                    security-critical:
                      repeats: 1
                      levels:
                        - targets: [security-oncall]
                          timeout: 90s
                        - targets: [security-lead, ciso]
                          timeout: 30m
                sla:
                  P0: {acknowledge: 2m}
                  P3: {acknowledge: 1h, resolve: 2d}
            """, file: "timers.yaml")
        let policy = try #require(config.escalationPolicies["security-critical"])
        #expect(policy.repeats == 1)
        #expect(policy.levels.map(\.targets) == [["security-oncall"], ["security-lead", "ciso"]])
        #expect(policy.step(0).timeoutSeconds == 90 && policy.step(1).timeoutSeconds == 1800)
        #expect(config.escalationPolicy(named: "security-critical", team: "x") == policy)
        #expect(config.sla.targets[0] == SLATarget(acknowledgeWithinSeconds: 120, resolveWithinSeconds: 4 * 3600))
        #expect(config.sla.targets[3] == SLATarget(acknowledgeWithinSeconds: 3600, resolveWithinSeconds: 2 * 86400))
        #expect(config.sla.targets[1] == SLAPolicy.defaults.targets[1])
    }

    @Test func levelsNameTheirOwnPagerDutyKeys() throws {
        let config = try ServiceConfig.parse(yaml: """
            integrations:
              llm-shield:
                routing:
                  escalation_policies:
                    security-critical:
                      repeats: 1
                      levels:
                        - {targets: [security-oncall], timeout: 15m, integration_key: "${PD_L1_KEY}"}
                        - {targets: [security-lead], timeout: 30m, routing_key: "${PD_L2_KEY}"}
                        - {targets: [ciso], timeout: 1h}
            """, file: "levels.yaml")
        let policy = try #require(config.escalationPolicies["security-critical"])
        #expect(policy.levels.map(\.integrationKey) == ["${PD_L1_KEY}", "${PD_L2_KEY}", nil])
        #expect(policy.step(1).integrationKey == "${PD_L2_KEY}")
        // The first page keeps the incident id; each later step is an alert of its own, repeats too.
        let id = "INC-20261207-00001"
        #expect((0..<6).map { policy.step($0).pageDedupKey(incidentID: id) } == [
            id, "\(id):L2", "\(id):L3", "\(id):L1:R2", "\(id):L2:R2", "\(id):L3:R2"])
        // A policy frozen into a timer before levels had keys still decodes.
        let old = #"{"name":"p","repeats":0,"levels":[{"targets":["a"],"timeoutMinutes":1}]}"#
        let decoded = try JSONDecoder().decode(EscalationPolicy.self, from: Data(old.utf8))
        #expect(decoded.levels[0].integrationKey == nil)
        #expect(PagerDutyConfig.keyName("${PD_L2_KEY}") == "PD_L2_KEY")
        #expect(PagerDutyConfig.keyName("0123456789abcdef0123456789abcdef") == "a key written in the config")
    }

    @Test func undefinedPolicyPagesTheTeamEvery15Minutes() {
        let policy = ServiceConfig.defaults.escalationPolicy(named: "sentinel-escalation", team: "ml-platform")
        #expect(policy.name == "sentinel-escalation")
        #expect(policy.levels == [EscalationLevel(targets: ["ml-platform"], timeoutMinutes: 15)])
    }

    @Test("bad timer keys name the key", arguments: [
        ("routing:\n      escalation_policies:\n        p: {levels: []}", "routing.escalation_policies.p.levels"),
        ("routing:\n      escalation_policies:\n        p: {levels: [{targets: [a]}]}",
         "routing.escalation_policies.p.levels[0]"),
        ("routing:\n      escalation_policies:\n        p: {levels: [{targets: [a], timeout: 0s}]}",
         "routing.escalation_policies.p.levels[0].timeout"),
        ("routing:\n      escalation_policies:\n        p: {levels: [{targets: [a], timeout: 1m}], repeats: 1.5}",
         "routing.escalation_policies.p.repeats"),
        ("routing:\n      escalation_policies:\n        p: {levels: [{targets: [a], timeout: 1m, integration_key: abc123}]}",
         "routing.escalation_policies.p.levels[0].integration_key"),
        ("routing:\n      escalation_policies:\n        p: {levels: [{targets: [a], timeout: 1m, integration_key: \"${A}\", "
            + "routing_key: \"${B}\"}]}", "routing.escalation_policies.p.levels[0]"),
        ("sla:\n      P9: {acknowledge: 1m}", "sla.P9"),
        ("sla:\n      P0: {acknowledge: 1m, respond: 2m}", "sla.P0.respond"),
        ("sla:\n      P0: {acknowledge: 0s}", "sla.P0"),
    ])
    func badKeys(snippet: String, key: String) {
        let yaml = "integrations:\n  llm-shield:\n    " + snippet + "\n"
        #expect {
            _ = try ServiceConfig.parse(yaml: yaml, file: "bad.yaml")
        } throws: { error in
            (error as? ConfigError)?.key == "integrations.llm-shield.\(key)"
        }
    }
}
