// The LLM-Shield CreateIncident example of the integration guide, section 3, as a message.
import IncidentAPI

enum ShieldExample {
    /// Bytes standing in for the encrypted details the example sends (the guide leaves them opaque).
    static let encryptedDetails: [UInt8] = (0..<96).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    static var request: CreateIncidentRequest {
        var r = CreateIncidentRequest()
        r.eventId = "shield-2025-005678"
        r.source = "llm-shield"
        r.sourceVersion = "2.1.0"
        r.timestamp = "2025-11-11T10:35:00Z"
        r.eventType = "violation"
        r.category = "security"
        r.title = "Prompt Injection Detected"
        r.description = "Malicious prompt injection attempt blocked"
        r.severity = "critical"
        var resource = Resource()
        resource.type = "model"
        resource.id = "model-gpt4-prod"
        resource.name = "GPT-4 Production"
        resource.metadata = ["model_version": "gpt-4-0613", "deployment_id": "dep-12345"]
        r.resource = resource
        r.metrics = ["confidence_score": 0.95, "attack_vectors": 3]
        r.tags = ["environment": "production", "user_id": "user-789", "session_id": "sess-abc123"]
        r.encryptedPayload = encryptedDetails
        return r
    }
}
