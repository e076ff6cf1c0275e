// Moving bytes, metadata and times between the C core's types and Swift's.
internal import CGRPC

extension Array where Element == UInt8 {
    /// A flat copy of a byte buffer's slices.
    init(byteBuffer: UnsafeMutablePointer<grpc_byte_buffer>) {
        let length = cgrpc_byte_buffer_length(byteBuffer)
        self.init(unsafeUninitializedCapacity: length) { storage, count in
            count = cgrpc_byte_buffer_copy(byteBuffer, storage.baseAddress, length) == 0 ? length : 0
        }
    }

    /// The bytes of a slice.
    init(slice: UnsafePointer<grpc_slice>) {
        let length = cgrpc_slice_length(slice)
        guard length > 0, let start = cgrpc_slice_start(slice) else {
            self = []
            return
        }
        self.init(UnsafeBufferPointer(start: start, count: length))
    }
}

extension String {
    /// A slice's bytes as UTF-8 text (invalid sequences repaired).
    init(slice: UnsafePointer<grpc_slice>) {
        let length = cgrpc_slice_length(slice)
        guard length > 0, let start = cgrpc_slice_start(slice) else {
            self = ""
            return
        }
        self = String(decoding: UnsafeBufferPointer(start: start, count: length), as: UTF8.self)
    }
}

extension Metadata {
    /// A copy of received metadata; keys ending in `-bin` keep their bytes.
    init(array: UnsafePointer<grpc_metadata_array>) {
        self.init()
        let count = array.pointee.count
        guard count > 0, let entries = array.pointee.metadata else { return }
        for index in 0..<count {
            let key = withUnsafePointer(to: entries[index].key) { String(slice: $0) }
            if key.hasSuffix("-bin") {
                addBinary(withUnsafePointer(to: entries[index].value) { [UInt8](slice: $0) }, forKey: key)
            } else {
                addString(withUnsafePointer(to: entries[index].value) { String(slice: $0) }, forKey: key)
            }
        }
    }

    /// Copies every entry into a batch's outgoing metadata.
    func append(to batch: OpaquePointer, trailing: Bool) {
        for entry in entries {
            var key = entry.key
            key.withUTF8 { keyBytes in
                keyBytes.withMemoryRebound(to: CChar.self) { keyChars in
                    switch entry.value {
                    case .string(var text):
                        text.withUTF8 { value in
                            cgrpc_batch_add_metadata(
                                batch, trailing ? 1 : 0, keyChars.baseAddress, keyChars.count,
                                value.baseAddress, value.count)
                        }
                    case .binary(let bytes):
                        bytes.withUnsafeBytes { value in
                            cgrpc_batch_add_metadata(
                                batch, trailing ? 1 : 0, keyChars.baseAddress, keyChars.count,
                                value.baseAddress, value.count)
                        }
                    }
                }
            }
        }
    }
}

enum CoreTime {
    /// The instant a core deadline names, or nil for "no deadline".
    static func instant(from deadline: gpr_timespec) -> ContinuousClock.Instant? {
        if deadline.tv_sec == Int64.max { return nil }
        let monotonic = gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC)
        let now = gpr_now(GPR_CLOCK_MONOTONIC)
        let remaining = gpr_time_sub(monotonic, now)
        let duration = Duration.seconds(remaining.tv_sec) + Duration.nanoseconds(Int64(remaining.tv_nsec))
        return ContinuousClock.now + duration
    }

    /// A core deadline `timeout` from now, or infinite.
    static func deadline(after timeout: Duration?) -> gpr_timespec {
        guard let timeout else { return gpr_inf_future(GPR_CLOCK_MONOTONIC) }
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = max(0, seconds) * 1_000_000_000 + max(0, attoseconds / 1_000_000_000)
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_nanos(nanoseconds, GPR_TIMESPAN))
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let value = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: value)
    }
}
