// Reading a few fields of an encoded message without decoding it: callers that must decide something from one
// field before paying for a full decode (admission on a completion-queue thread, reflection's descriptor walk, the
// bench's stream fan-out) walk the decoder's own reader, with the same tag, length, group and UTF-8 rules, so they
// see what the decoder would.

extension BinaryReader {
    /// Calls `visit` with the number and payload of each length-delimited field of the message `bytes`, in order;
    /// fields of other wire types are skipped as the decoder skips them (groups whole). Payloads are slices of
    /// `bytes` (indices into it), so a caller can keep or rescan them without copying.
    @inlinable
    public static func forEachLengthDelimitedField(
        in bytes: ArraySlice<UInt8>, recursionLimit: Int = BinaryReader.defaultRecursionLimit,
        _ visit: (_ number: Int, _ payload: ArraySlice<UInt8>) throws(ProtoDecodingError) -> Void
    ) throws(ProtoDecodingError) {
        var failure: ProtoDecodingError?
        bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw, recursionLimit: recursionLimit)
            let base = reader.position
            do throws(ProtoDecodingError) {
                while let tag = try reader.nextTag() {
                    guard tag & 7 == UInt32(WireType.lengthDelimited.rawValue) else {
                        try reader.skipField(tag: tag)
                        continue
                    }
                    let length = try reader.readLength()
                    let start = bytes.startIndex + (reader.position - base)
                    reader.position += length
                    try visit(Int(tag >> 3), bytes[start..<start + length])
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// The string field `number` of the message `bytes`, nil when absent; throws what the decoder would for malformed
    /// bytes or for any occurrence that is not UTF-8. As in decoding, the last occurrence wins.
    @inlinable
    public static func lastString(field number: Int, in bytes: ArraySlice<UInt8>) throws(ProtoDecodingError) -> String? {
        var found: String?
        try forEachLengthDelimitedField(in: bytes) { field, payload throws(ProtoDecodingError) in
            guard field == number else { return }
            guard let text = String(validating: payload, as: UTF8.self) else { throw .invalidUTF8(field: number) }
            found = text
        }
        return found
    }
}
