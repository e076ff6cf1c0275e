// A message encoded once and sent on many streams: its bytes live in one reference-counted core slice.
internal import CGRPC

/// Wire bytes of one message, shared by every stream that sends it: each send takes a reference to the same
/// core slice instead of copying the bytes (a change fanned out to a thousand streams is held once).
public final class EncodedMessage: @unchecked Sendable {
    // Immutable after init; the core's slice reference count is atomic, so sends on any thread may share it.
    private let slice: grpc_slice
    /// The length of the message in bytes.
    public let count: Int

    /// Copies `bytes` once into a core slice.
    public init(_ bytes: [UInt8]) {
        count = bytes.count
        slice = bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return grpc_empty_slice() }
            return grpc_slice_from_copied_buffer(base.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }

    deinit {
        grpc_slice_unref(slice)
    }

    /// A copy of the bytes (for writers that are not the core's, and for tests).
    public var bytes: [UInt8] {
        withUnsafePointer(to: slice) { [UInt8](slice: $0) }
    }

    /// Adds a send of this message to `batch`; the batch holds its own reference until it is reset.
    func addSend(to batch: OpaquePointer, bufferHint: Bool) {
        withUnsafePointer(to: slice) { cgrpc_batch_send_shared_message(batch, $0, bufferHint ? 1 : 0) }
    }
}
