// A job is stored as (kind, payload) and read back by its handler: every kind decodes to what was encoded, and a
// payload missing what its handler needs is refused with the field named.
import IncidentCore
import Testing

@Suite("Job payloads")
struct JobPayloadTests {
    static let policy = EscalationPolicy(
        name: "security-critical", levels: [EscalationLevel(targets: ["secops-oncall"], timeoutMinutes: 5)], repeats: 1)

    @Test("every job decodes from its stored kind and payload to the job that was encoded", arguments: [
        Job.pageTrigger(.init(reason: "escalation", step: 1, level: 2, targets: "secops-lead", dedupKey: "INC-1:L2",
                              integrationKey: "${PD_LEAD_KEY}")),
        .pageTrigger(.init(reason: "auto_page")),
        .pageAcknowledge(actor: "oncall"),
        .pageAcknowledge(actor: "oncall", alert: .init(dedupKey: "INC-1:L2", integrationKey: "${K}", level: 2,
                                                       targets: "lead")),
        .pageResolve(actor: "secops", alert: .init(dedupKey: "INC-1")),
        .slackNotify(channel: "#security-alerts", event: "escalated"),
        .webhook(name: "siem", trigger: "incident_created"),
        .remediate(actionID: "act-1", inputs: ["user_id": "u-42"]),
        .compensate(actionID: "act-1", inputs: [:], reason: "false_positive"),
        .escalate(step: 2, policy: JobPayloadTests.policy),
        .escalate(step: 0, policy: nil),
        .slaCheck(clock: .resolve, dueAt: 1_765_000_000.5),
        .approvalExpiry(actionID: "act-3", inputs: ["ip": "203.0.113.9"]),
    ])
    func roundTrip(job: Job) throws {
        #expect(try Job(kind: job.kind.rawValue, payload: job.payload) == job)
    }

    @Test("a payload without what its handler needs, or of an unknown kind, is refused naming the problem")
    func refusals() {
        #expect(throws: JobPayloadError(kind: "remediate", problem: "no action_id")) {
            try Job(kind: "remediate", payload: [:])
        }
        #expect(throws: JobPayloadError(kind: "escalate", problem: "step is not a count")) {
            try Job(kind: "escalate", payload: ["step": "-1"])
        }
        #expect(throws: JobPayloadError(kind: "sla.check", problem: "clock is not acknowledge or resolve")) {
            try Job(kind: "sla.check", payload: ["clock": "lunch"])
        }
        #expect(throws: JobPayloadError(kind: "page.teleport", problem: "unknown kind")) {
            try Job(kind: "page.teleport", payload: [:])
        }
    }
}
