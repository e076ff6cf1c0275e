// One change-log entry as streams send it: encoded once, shared by every subscriber it matches.
import IncidentCore
import IncidentStore
import RPC

/// A change with its incident (for filters) and its wire forms with and without the encrypted payload.
/// A class, so that a thousand subscriber buffers holding it hold one pointer each, not a copy.
final class FeedEntry: Sendable {
    let position: Int64
    let incident: Incident
    /// The wire forms, each held once in a core slice that every stream's send shares.
    private let withPayload: EncodedMessage
    private let withoutPayload: EncodedMessage

    init(_ change: IncidentChange) {
        position = change.position
        incident = change.incident
        (withPayload, withoutPayload) = change.wireForms()
    }

    /// The wire form to send: a change is encoded once however many streams send it.
    func encoded(includePayload: Bool) -> EncodedMessage {
        includePayload ? withPayload : withoutPayload
    }
}
