// Reads only what the stream fan-out needs from a streamed Incident — its id and the `bench_seq` tag — straight
// from the wire bytes, so a thousand subscribers' deliveries do not cost the client a full decode each.
import IncidentAPI
import ProtoWire

/// The id and the benchmark tag of one streamed `incident_manager.Incident`, as slices of its bytes (no strings are
/// made until asked for: the scan runs once per delivery, a hundred thousand times a second).
struct IncidentWireScan {
    /// `Incident.id`.
    var idBytes: ArraySlice<UInt8> = []
    /// The value of `tags["bench_seq"]` (a map entry), empty when absent.
    var sequenceTagBytes: ArraySlice<UInt8> = []

    var id: String { String(decoding: idBytes, as: UTF8.self) }
    var sequenceTag: String { String(decoding: sequenceTagBytes, as: UTF8.self) }

    private static let sequenceKey = Array(EventFactory.sequenceTag.utf8)
    // A map<string, string> entry is a message with the key as field 1 and the value as field 2.
    private static let entryKey = 1
    private static let entryValue = 2

    /// Scans `bytes`; nil when they are not a well-formed message.
    init?(_ bytes: [UInt8]) {
        var idBytes: ArraySlice<UInt8> = []
        var sequenceTagBytes: ArraySlice<UInt8> = []
        do throws(ProtoDecodingError) {
            try BinaryReader.forEachLengthDelimitedField(in: bytes[...]) { field, value throws(ProtoDecodingError) in
                if field == Incident.FieldNumber.id {
                    idBytes = value
                } else if field == Incident.FieldNumber.tags {
                    let tag = try Self.entry(value)
                    if tag.key.elementsEqual(Self.sequenceKey) { sequenceTagBytes = tag.value }
                }
            }
        } catch {
            return nil
        }
        self.idBytes = idBytes
        self.sequenceTagBytes = sequenceTagBytes
    }

    private static func entry(
        _ bytes: ArraySlice<UInt8>
    ) throws(ProtoDecodingError) -> (key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        var key: ArraySlice<UInt8> = []
        var value: ArraySlice<UInt8> = []
        try BinaryReader.forEachLengthDelimitedField(in: bytes) { field, text throws(ProtoDecodingError) in
            if field == entryKey { key = text } else if field == entryValue { value = text }
        }
        return (key, value)
    }
}
