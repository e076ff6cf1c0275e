// What server reflection answers, independent of the protocol version: the compiled .proto files by name and
// by the symbols they define, the services the server registers, and one stream's answers to its queries.
import ProtoWire
import RPC

/// One reflection query, as both `grpc.reflection.v1` and `v1alpha` ask it.
enum ReflectionQuery: Sendable, Hashable {
    case fileByFilename(String)
    case fileContainingSymbol(String)
    case fileContainingExtension(containingType: String, number: Int32)
    case allExtensionNumbers(ofType: String)
    case listServices
    /// The request set none of the queries.
    case missing
}

/// One reflection answer, before it is put in a version's response message.
enum ReflectionAnswer: Sendable, Hashable {
    /// Serialized `FileDescriptorProto`s: the file asked for first, then what it imports.
    case files([[UInt8]])
    case extensionNumbers(baseType: String, numbers: [Int32])
    case services([String])
    case error(StatusCode, String)
}

/// The descriptors and services a server offers through reflection; immutable, shared by every stream.
struct ReflectionIndex: Sendable {
    private let files: [String: ProtoFileDescriptor]
    private let fileBySymbol: [String: String]
    private let messageTypes: Set<String>
    /// The names `list_services` answers, sorted.
    let services: [String]

    /// Indexes `files` and lists `services`; fails when a descriptor cannot be read (a generator bug).
    init(files: [ProtoFileDescriptor], services: [String]) throws(DescriptorSymbols.Malformed) {
        var byName: [String: ProtoFileDescriptor] = [:]
        var bySymbol: [String: String] = [:]
        var messageTypes: Set<String> = []
        for file in files {
            byName[file.name] = file
            for symbol in try DescriptorSymbols.symbols(in: file.serializedDescriptor) {
                bySymbol[symbol.name] = bySymbol[symbol.name] ?? file.name
                if symbol.kind == .message { messageTypes.insert(symbol.name) }
            }
        }
        self.files = byName
        self.fileBySymbol = bySymbol
        self.messageTypes = messageTypes
        self.services = Array(Set(services)).sorted()
    }

    /// The file asked for and its imports, depth first, skipping those in `alreadySent` (the requested file
    /// itself is always sent). Nil when no file has that name.
    func fileAndDependencies(_ name: String, alreadySent: inout Set<String>) -> [[UInt8]]? {
        guard let file = files[name] else { return nil }
        var out = [file.serializedDescriptor]
        alreadySent.insert(name)
        var pending = file.dependencies
        while let next = pending.popLast() {
            guard let dependency = files[next], alreadySent.insert(next).inserted else { continue }
            out.append(dependency.serializedDescriptor)
            pending += dependency.dependencies
        }
        return out
    }

    /// The file that defines `symbol` (fully qualified, a leading dot allowed).
    func file(defining symbol: String) -> String? {
        fileBySymbol[symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol]
    }

    /// Whether `name` is a message type (the only kind extension queries may name).
    func isMessageType(_ name: String) -> Bool {
        messageTypes.contains(name.hasPrefix(".") ? String(name.dropFirst()) : name)
    }
}

/// One reflection stream: answers its queries in order, sending each file once per stream as grpc does.
struct ReflectionSession {
    let index: ReflectionIndex
    private var sent: Set<String> = []

    init(index: ReflectionIndex) {
        self.index = index
    }

    mutating func answer(_ query: ReflectionQuery) -> ReflectionAnswer {
        switch query {
        case .listServices:
            return .services(index.services)
        case .fileByFilename(let name):
            guard let files = index.fileAndDependencies(name, alreadySent: &sent) else {
                return .error(.notFound, "file \(name) is not known to this server")
            }
            return .files(files)
        case .fileContainingSymbol(let symbol):
            guard let name = index.file(defining: symbol),
                  let files = index.fileAndDependencies(name, alreadySent: &sent)
            else {
                return .error(.notFound, "symbol \(symbol) is not defined by any file this server knows")
            }
            return .files(files)
        case .fileContainingExtension(let type, let number):
            // proto3 without custom options: nothing here declares an extension.
            return .error(.notFound, "extension \(number) of \(type) not found: this server defines no extensions")
        case .allExtensionNumbers(let type):
            // As grpc answers: a known message simply has no extensions; an unknown one is NOT_FOUND.
            guard index.isMessageType(type) else { return .error(.notFound, "message type \(type) not found") }
            return .extensionNumbers(baseType: type.hasPrefix(".") ? String(type.dropFirst()) : type, numbers: [])
        case .missing:
            return .error(.invalidArgument, "the reflection request asks nothing: set one of message_request's fields")
        }
    }
}
