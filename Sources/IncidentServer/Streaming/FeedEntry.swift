// One change-log entry as streams send it: encoded once, shared by every subscriber it matches.
import IncidentAPI
import IncidentCore
import IncidentStore

/// A change with its incident (for filters) and its wire forms with and without the encrypted payload.
/// A class, so that a thousand subscriber buffers holding it hold one pointer each, not a copy.
final class FeedEntry: Sendable {
    let position: Int64
    let incident: IncidentCore.Incident
    private let withPayload: [UInt8]
    private let withoutPayload: [UInt8]

    init(_ change: IncidentChange) {
        position = change.position
        incident = change.incident
        var message = IncidentAPI.Incident(change.incident, includePayload: false)
        // The incident as this change left it; the position and version say which change this was.
        message.position = UInt64(max(0, change.position))
        message.version = UInt64(max(0, change.version))
        withoutPayload = message.serializedBytes()
        if let payload = change.incident.encryptedPayload, !payload.isEmpty {
            message.encryptedPayload = payload
            withPayload = message.serializedBytes()
        } else {
            withPayload = withoutPayload
        }
    }

    /// The message to send. Its bytes ride in `unknownFields`, which encoding writes back verbatim: the wire
    /// form is exactly the encoded incident, and a change is encoded once however many streams send it.
    func message(includePayload: Bool) -> IncidentAPI.Incident {
        var message = IncidentAPI.Incident()
        message.unknownFields.bytes = includePayload ? withPayload : withoutPayload
        return message
    }
}
