// The server under load: the channels (connections) calls are spread over and the options every call uses.
import Foundation
import RPC

/// The connections to the server under load, opened once and shared by every worker.
struct BenchTarget: Sendable {
    let server: String
    let channels: [Channel]
    let callOptions: CallOptions
    private let configuration: ChannelConfiguration

    init(server: String, security: ChannelSecurity, serverName: String?, connections: Int, timeout: Duration)
        throws(ChannelError)
    {
        self.server = server
        var configuration = ChannelConfiguration(target: server, security: security)
        configuration.serverNameOverride = serverName
        var opened: [Channel] = []
        for _ in 0..<connections { opened.append(try Channel(configuration: configuration)) }
        channels = opened
        self.configuration = configuration
        // Wait for ready: the first calls of a run must not fail fast while the connections are still handshaking.
        callOptions = CallOptions(timeout: timeout, waitForReady: true)
    }

    /// The same server over `connections` connections with a completion queue of their own (for load that must
    /// share neither connections nor completion-queue threads with other load, as separate clients would not).
    func separateConnections(_ connections: Int) throws(ChannelError) -> BenchTarget {
        var separate = configuration
        separate.ownCompletionQueue = true
        var opened: [Channel] = []
        for _ in 0..<max(1, connections) { opened.append(try Channel(configuration: separate)) }
        return BenchTarget(server: server, channels: opened, callOptions: callOptions, configuration: configuration)
    }

    private init(server: String, channels: [Channel], callOptions: CallOptions, configuration: ChannelConfiguration) {
        self.server = server
        self.channels = channels
        self.callOptions = callOptions
        self.configuration = configuration
    }

    /// The channel of worker (or subscriber) `index`, round-robin.
    func channel(_ index: Int) -> Channel { channels[index % channels.count] }

    /// Writes a problem to stderr, prefixed with the command's name.
    static func complain(_ message: String) {
        FileHandle.standardError.write(Data("incidentctl bench: \(message)\n".utf8))
    }
}
