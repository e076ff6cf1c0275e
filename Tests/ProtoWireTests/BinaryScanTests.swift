// The field scan callers use to read a field or two without decoding, and the generated field numbers they name.
import ProtoWire
import Testing

@Suite("binary field scan")
struct BinaryScanTests {
    /// Every length-delimited field `bytes` holds, in order, as (number, payload bytes).
    private static func scanned(_ bytes: ArraySlice<UInt8>) throws(ProtoDecodingError) -> [(Int, [UInt8])] {
        var fields: [(Int, [UInt8])] = []
        try BinaryReader.forEachLengthDelimitedField(in: bytes) { number, payload throws(ProtoDecodingError) in
            fields.append((number, Array(payload)))
        }
        return fields
    }

    // Hand-made wire bytes: the field numbers (below 16) and lengths (below 128) used here each take one byte.
    private static func tag(_ number: Int, _ type: WireType) -> [UInt8] { [UInt8(FieldTag.make(number, type))] }

    private static func string(_ number: Int, _ text: String) -> [UInt8] {
        tag(number, .lengthDelimited) + [UInt8(text.utf8.count)] + Array(text.utf8)
    }

    @Test("the generated field numbers are the ones the encoder writes, and the scan finds them in order")
    func generatedNumbersMatchTheEncoder() throws {
        var message = Everything()
        message.maybeInt = 7
        message.maybeString = "maybe"
        message.rString = ["a", "b"]
        message.choice = .choiceString("chosen")
        message.fieldWithBigNumber = 3
        let fields = try Self.scanned(message.serializedBytes()[...])
        #expect(fields.map(\.0) == [Everything.FieldNumber.maybeString, Everything.FieldNumber.rString,
                                    Everything.FieldNumber.rString, Everything.FieldNumber.choiceString])
        #expect(fields.map { String(decoding: $0.1, as: UTF8.self) } == ["maybe", "a", "b", "chosen"])
        #expect(Everything.FieldNumber.fieldWithBigNumber == 100_000)
        #expect(Tree.FieldNumber.name == 1)
    }

    @Test("payloads are slices of the scanned bytes, at their indices, also when the slice does not start at 0")
    func payloadsAreSlicesOfTheInput() throws {
        let framed: [UInt8] = [0xEE, 0xEE] + Self.string(1, "id-1") + Self.tag(2, .varint) + [5] + Self.string(13, "")
        var payloads: [ArraySlice<UInt8>] = []
        try BinaryReader.forEachLengthDelimitedField(in: framed[2...]) { _, payload throws(ProtoDecodingError) in
            payloads.append(payload)
        }
        #expect(payloads.count == 2)
        #expect(payloads.first?.startIndex == 4)
        #expect(payloads.first.map(Array.init) == Array("id-1".utf8))
        #expect(payloads.last?.isEmpty == true)
    }

    @Test("groups are skipped whole and other wire types passed over, as the decoder does")
    func skipsWhatTheDecoderSkips() throws {
        let group = Self.tag(15, .startGroup) + Self.string(9, "inside") + Self.tag(15, .endGroup)
        let bytes = Self.tag(9, .fixed32) + [1, 2, 3, 4] + group + Self.tag(3, .fixed64) + Array(repeating: 0, count: 8)
            + Self.string(9, "outside")
        let fields = try Self.scanned(bytes[...])
        #expect(fields.map(\.0) == [9])
        #expect(fields.map { String(decoding: $0.1, as: UTF8.self) } == ["outside"])
    }

    @Test("malformed bytes throw the decoder's errors")
    func malformedThrows() {
        let malformed: [[UInt8]] = [
            Self.string(1, "x") + Self.tag(15, .startGroup),
            Self.tag(1, .lengthDelimited) + [5, 0x61],
            [0x00, 0x01],
            [0x0F],
            [0xFF, 0xFF, 0xFF],
        ]
        for bytes in malformed {
            #expect(throws: ProtoDecodingError.self) { _ = try Self.scanned(bytes[...]) }
        }
    }

    @Test("lastString takes the last occurrence and refuses invalid UTF-8 in any of them")
    func lastString() throws {
        let twice = Self.string(9, "first") + Self.string(9, "second")
        #expect(try BinaryReader.lastString(field: 9, in: twice[...]) == "second")
        #expect(try BinaryReader.lastString(field: 8, in: twice[...]) == nil)
        let badThenGood = Self.tag(9, .lengthDelimited) + [2, 0xC3, 0x28] + Self.string(9, "good")
        #expect(throws: ProtoDecodingError.self) { _ = try BinaryReader.lastString(field: 9, in: badThenGood[...]) }
    }
}
