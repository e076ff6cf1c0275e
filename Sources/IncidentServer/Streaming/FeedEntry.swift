// One change-log entry as streams send it: encoded once, shared by every subscriber it matches.
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC

/// A change with its incident (for filters) and its wire forms with and without the encrypted payload.
/// A class, so that a thousand subscriber buffers holding it hold one pointer each, not a copy.
final class FeedEntry: Sendable {
    let position: Int64
    let incident: IncidentCore.Incident
    /// The wire forms, each held once in a core slice that every stream's send shares.
    private let withPayload: EncodedMessage
    private let withoutPayload: EncodedMessage

    init(_ change: IncidentChange) {
        position = change.position
        incident = change.incident
        var message = IncidentAPI.Incident(change.incident, includePayload: false)
        // The incident as this change left it; the position and version say which change this was.
        message.position = UInt64(max(0, change.position))
        message.version = UInt64(max(0, change.version))
        withoutPayload = EncodedMessage(message.serializedBytes())
        let payload = change.incident.encryptedPayload ?? []
        let requestHash = change.incident.requestHash ?? ""
        if !payload.isEmpty || !requestHash.isEmpty {
            message.encryptedPayload = payload
            message.requestSha256 = requestHash
            withPayload = EncodedMessage(message.serializedBytes())
        } else {
            withPayload = withoutPayload
        }
    }

    /// The wire form to send: a change is encoded once however many streams send it.
    func encoded(includePayload: Bool) -> EncodedMessage {
        includePayload ? withPayload : withoutPayload
    }
}
