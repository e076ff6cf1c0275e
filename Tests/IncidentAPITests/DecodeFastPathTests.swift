// The decoder's fast paths (ASCII strings built in place, one-byte lengths, pre-sized maps) against hand-built bytes.
import IncidentAPI
import ProtoWire
import Testing

@Suite("decode fast paths")
struct DecodeFastPathTests {
    /// Field 1 (event_id) as a length-delimited string with the given UTF-8 bytes.
    func eventIdField(_ utf8: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x0A]
        var n = utf8.count
        while n >= 0x80 {
            bytes.append(UInt8(n & 0x7F) | 0x80)
            n >>= 7
        }
        bytes.append(UInt8(n))
        return bytes + utf8
    }

    @Test("strings of every length across the inline/heap boundary decode exactly, ASCII or not")
    func stringLengths() throws {
        for length in 0...200 {
            let ascii = String((0..<length).map { Character(UnicodeScalar(UInt8(0x21 + $0 % 90))) })
            let decoded = try CreateIncidentRequest(serializedBytes: eventIdField(Array(ascii.utf8)))
            #expect(decoded.eventId == ascii)
            let mixed = ascii + "é"
            #expect(try CreateIncidentRequest(serializedBytes: eventIdField(Array(mixed.utf8))).eventId == mixed)
        }
    }

    @Test("invalid UTF-8 after a long ASCII prefix is refused")
    func invalidAfterASCII() {
        for prefix in [0, 7, 8, 15, 16, 17, 130] {
            let bytes = eventIdField([UInt8](repeating: 0x61, count: prefix) + [0xC3, 0x28])
            #expect(throws: ProtoDecodingError.invalidUTF8(field: 1)) {
                try CreateIncidentRequest(serializedBytes: bytes)
            }
        }
    }

    @Test("a map with more entries than its initial room keeps them all, last duplicate winning")
    func largeMapAndDuplicates() throws {
        var request = CreateIncidentRequest()
        for i in 0..<50 { request.tags["key-\(i)"] = "value-\(i)" }
        var bytes = request.serializedBytes()
        var duplicate = CreateIncidentRequest()
        duplicate.tags = ["key-7": "replaced"]
        bytes += duplicate.serializedBytes()
        let decoded = try CreateIncidentRequest(serializedBytes: bytes)
        #expect(decoded.tags.count == 50)
        #expect(decoded.tags["key-7"] == "replaced")
        #expect(decoded.tags["key-49"] == "value-49")
    }
}
