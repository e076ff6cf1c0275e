// Process signals for a serving process: SIGTERM/SIGINT shut the server down gracefully,
// SIGHUP re-reads its certificate files.
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Server {
    /// Serves until SIGTERM or SIGINT, then shuts down with `grace`; SIGHUP reloads certificates meanwhile.
    /// The default signal actions are restored when the server has shut down. `onReady` runs once the
    /// handlers are installed (announce readiness there: a signal sent earlier would meet the default action).
    public func runUntilSignalled(grace: Duration = .seconds(10), onReady: @Sendable () -> Void = {}) async {
        let queue = DispatchQueue(label: "rpc.signals")
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in
                if number == SIGHUP {
                    Log.write(.info, "SIGHUP: reloading certificates on the next handshakes")
                    reloadCertificates()
                } else {
                    Log.write(.info, "signal \(number): shutting down gracefully")
                    Task { await self.shutdown(grace: grace) }
                }
            }
            source.resume()
            sources.append(source)
        }
        onReady()
        await waitUntilTerminated()
        for source in sources { source.cancel() }
        for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_DFL) }
    }
}
