// Reading a few fields of an encoded message without decoding it: callers that must decide something from one
// field before paying for a full decode (admission on a completion-queue thread) walk the same reader, with the
// same tag, length, group and UTF-8 rules, so they see what the decoder would.

extension BinaryReader {
    /// Runs `body` over a reader of `bytes`; what it throws is the decoder's own error for those bytes.
    @inlinable
    public static func scan<Result>(
        _ bytes: [UInt8], recursionLimit: Int = BinaryReader.defaultRecursionLimit,
        _ body: (inout BinaryReader) throws(ProtoDecodingError) -> Result
    ) throws(ProtoDecodingError) -> Result {
        var outcome: Swift.Result<Result, ProtoDecodingError>!
        bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw, recursionLimit: recursionLimit)
            do throws(ProtoDecodingError) {
                outcome = .success(try body(&reader))
            } catch {
                outcome = .failure(error)
            }
        }
        return try outcome.get()
    }
}
