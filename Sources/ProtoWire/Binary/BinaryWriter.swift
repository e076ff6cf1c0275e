// Writes the binary format into a buffer sized beforehand from the message's serializedSize().

/// Appends encoded fields to a pre-sized buffer; every write is bounds-checked.
public struct BinaryWriter {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline var offset: Int

    /// How many bytes were written so far.
    @inlinable public var count: Int { offset }

    @inlinable
    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
        self.offset = 0
    }

    @inlinable
    mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        precondition(offset &+ n <= capacity, "BinaryWriter: message size changed while encoding")
        let p = base + offset
        offset &+= n
        return p
    }

    /// Writes a varint.
    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        let p = reserve(WireSize.varint(value))
        var i = 0
        while v >= 0x80 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: i, as: UInt8.self)
            v >>= 7
            i &+= 1
        }
        p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
    }

    /// Writes a field tag.
    @inlinable
    public mutating func writeTag(_ tag: UInt32) {
        if tag < 0x80 {
            reserve(1).storeBytes(of: UInt8(truncatingIfNeeded: tag), as: UInt8.self)
        } else {
            writeVarint(UInt64(tag))
        }
    }

    /// Writes four little-endian bytes.
    @inlinable
    public mutating func writeFixed32(_ value: UInt32) {
        reserve(4).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    /// Writes eight little-endian bytes.
    @inlinable
    public mutating func writeFixed64(_ value: UInt64) {
        reserve(8).storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    /// Writes raw bytes with no length prefix.
    @inlinable
    public mutating func writeRaw(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    }

    /// Writes a length-prefixed string.
    @inlinable
    public mutating func writeString(_ value: String) {
        var s = value
        s.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            writeRaw(UnsafeRawBufferPointer(utf8))
        }
    }

    /// Writes length-prefixed bytes.
    @inlinable
    public mutating func writeBytes(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        value.withUnsafeBytes { writeRaw($0) }
    }

    /// Writes a length-prefixed nested message.
    @inlinable
    public mutating func writeMessage<M: ProtoMessage>(_ message: M) {
        writeVarint(UInt64(message.serializedSize()))
        message.encode(to: &self)
    }
}

/// Encoded sizes, as the size pass of encoding computes them.
public enum WireSize {
    /// The bytes a varint of this value takes.
    @inlinable
    public static func varint(_ value: UInt64) -> Int {
        // One byte per started group of 7 bits; 0 still takes one byte.
        let bits = 64 &- (value | 1).leadingZeroBitCount
        return (bits &+ 6) / 7
    }

    /// The bytes a length-delimited payload takes, prefix included.
    @inlinable
    public static func lengthDelimited(_ length: Int) -> Int {
        varint(UInt64(length)) &+ length
    }
}
