// The tag every C batch or request carries: a retained Swift object plus a small operation number
// packed into the pointer's low bits, so a completion finds its owner without a lookup table.

/// Something waiting for completion-queue events; subclasses decide what each operation means.
class Completion: @unchecked Sendable {
    /// Called on a completion-queue thread. Must not block: resume a continuation or start a task.
    func complete(operation: Int, success: Bool) {}

    /// A tag for one pending operation; it holds a strong reference until the event arrives.
    /// Swift objects are at least 8-byte aligned, leaving three low bits for the operation.
    final func retainedTag(operation: Int) -> UnsafeMutableRawPointer {
        precondition(operation >= 0 && operation < 8)
        return Unmanaged.passRetained(self).toOpaque() + operation
    }

    /// Drops the reference a tag held when the operation it was made for never started.
    final func releaseTag(_ tag: UnsafeMutableRawPointer) {
        Unmanaged<Completion>.fromOpaque(UnsafeRawPointer(tag - (Int(bitPattern: tag) & 7))).release()
    }

    /// Delivers an event to its owner and drops the tag's reference.
    static func dispatch(tag: UnsafeMutableRawPointer, success: Bool) {
        let bits = Int(bitPattern: tag)
        let operation = bits & 7
        let owner = Unmanaged<Completion>.fromOpaque(UnsafeRawPointer(tag - operation)).takeRetainedValue()
        owner.complete(operation: operation, success: success)
    }
}
