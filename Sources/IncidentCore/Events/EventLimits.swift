// Bounds on every string and map of an event, so one request cannot make the service store (or stream to
// every subscriber) an unbounded amount of data.

/// Size limits for incoming events (bytes of UTF-8 for strings).
public struct EventLimits: Sendable, Hashable {
    public var identifier = 256
    public var shortText = 128
    public var title = 512
    public var description = 16 * 1024
    public var mapEntries = 64
    public var mapKey = 128
    public var mapValue = 1024
    public var encryptedPayload = 1 << 20

    public init() {}
}
