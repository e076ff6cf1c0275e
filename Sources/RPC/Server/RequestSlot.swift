// One outstanding request for a new call. When the core fills it, the slot hands the call to a
// `ServerCall` and immediately asks for the next one, so a queue never runs out of slots.
internal import CGRPC

final class RequestSlot: Completion, @unchecked Sendable {
    // The C slot is written by the core only while a request is pending and read here only in
    // `complete`, on the queue's thread; it is freed once, in deinit.
    private let slot = cgrpc_request_slot_create()!
    private let method: RegisteredMethod?
    private let queue: CompletionQueue
    private let runtime: ServerRuntime

    /// A slot for a registered method, or for any unregistered path when `method` is nil.
    init(method: RegisteredMethod?, queue: CompletionQueue, runtime: ServerRuntime) {
        self.method = method
        self.queue = queue
        self.runtime = runtime
        super.init()
        runtime.work.enter()
    }

    deinit {
        cgrpc_request_slot_destroy(slot)
        runtime.work.leave()
    }

    /// Asks the core for the next call; false when the server no longer accepts requests.
    @discardableResult
    func post() -> Bool {
        let tag = retainedTag(operation: 0)
        let result: grpc_call_error
        if let method {
            let wantsPayload: Int32 = method.handler.requestArrivesWithCall ? 1 : 0
            result = cgrpc_request_slot_post_registered(
                slot, runtime.server, method.coreHandle, wantsPayload, queue.raw, tag)
        } else {
            result = cgrpc_request_slot_post_generic(slot, runtime.server, queue.raw, tag)
        }
        if result != GRPC_CALL_OK {
            releaseTag(tag)
            return false
        }
        return true
    }

    override func complete(operation: Int, success: Bool) {
        // A failed request means the server is shutting down: the slot is simply dropped.
        guard success, let call = slot.pointee.call else { return }
        if let method {
            let payload = cgrpc_request_slot_take_payload(slot)
            let request = payload.map { buffer in
                defer { grpc_byte_buffer_destroy(buffer) }
                return [UInt8](byteBuffer: buffer)
            }
            let context = ServerContext(
                method: method.descriptor,
                peer: runtime.peerReader.identity(of: call),
                peerAddress: Self.peerAddress(of: call),
                requestMetadata: Metadata(array: &slot.pointee.metadata),
                deadline: CoreTime.instant(from: slot.pointee.deadline))
            cgrpc_request_slot_reset(slot)
            post()
            ServerCall(call: call, context: context, isStream: method.isStream,
                       streamsRequests: !method.handler.requestArrivesWithCall, runtime: runtime)
                .begin(handler: method.handler, request: request)
        } else {
            let path = String(slice: &slot.pointee.details.method)
            cgrpc_request_slot_reset(slot)
            post()
            _ = UnimplementedCall(call: call, method: path, work: runtime.work)
        }
    }

    private static func peerAddress(of call: OpaquePointer) -> String {
        guard let peer = grpc_call_get_peer(call) else { return "" }
        defer { gpr_free(peer) }
        return String(cString: peer)
    }
}

/// A method registered with the core, and the handler that serves it.
final class RegisteredMethod: @unchecked Sendable {
    // `coreHandle` is an opaque token the core hands out at registration and never frees.
    let descriptor: MethodDescriptor
    let handler: ServerMethodHandler
    let coreHandle: UnsafeMutableRawPointer

    /// Every kind but unary may run indefinitely: such calls are ended at shutdown rather than awaited.
    var isStream: Bool {
        if case .unary = handler { return false }
        return true
    }

    init(descriptor: MethodDescriptor, handler: ServerMethodHandler, coreHandle: UnsafeMutableRawPointer) {
        self.descriptor = descriptor
        self.handler = handler
        self.coreHandle = coreHandle
    }
}
