// What the generator records about each .proto file, for server reflection.

/// One compiled `.proto` file: its serialized `google.protobuf.FileDescriptorProto` and the names it defines.
public struct ProtoFileDescriptor: Sendable, Hashable {
    /// The file's path relative to `Protos/` (`grpc/health/v1/health.proto`).
    public let name: String
    /// The proto package (`incident_manager`).
    public let package: String
    /// The files it imports, as written in its `import` lines.
    public let dependencies: [String]
    /// Fully qualified names of every message, enum, service and method it defines, without a leading dot.
    public let symbols: [String]
    /// The serialized `FileDescriptorProto`.
    public let serializedDescriptor: [UInt8]

    public init(name: String, package: String, dependencies: [String], symbols: [String],
                serializedDescriptor: [UInt8]) {
        self.name = name
        self.package = package
        self.dependencies = dependencies
        self.symbols = symbols
        self.serializedDescriptor = serializedDescriptor
    }
}
