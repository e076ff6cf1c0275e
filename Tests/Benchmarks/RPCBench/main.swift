// rpc-bench: a closed-loop unary load generator on our Swift client over the C core.
// Each of --concurrency tasks sends one call, awaits the answer, and sends the next, for --duration
// seconds after a warm-up; latencies of all calls give p50/p90/p99.
//
//   rpc-bench --target 127.0.0.1:9090 --ca ca.pem --cert client.pem --key client.key \
//             --concurrency 64 --duration 10 --connections 2 [--path /interop.Echo/Echo] [--size 32]
import RPC

#if canImport(Glibc)
import Glibc
#endif

@main
struct RPCBenchMain {
    static func main() async throws {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            if argument == "--insecure" { options[argument] = "1"; continue }
            guard let value = arguments.popFirst() else { fatalError("missing value for \(argument)") }
            options[argument] = value
        }
        let target = options["--target"] ?? "127.0.0.1:9090"
        let concurrency = Int(options["--concurrency"] ?? "64") ?? 64
        let duration = Double(options["--duration"] ?? "10") ?? 10
        let warmup = Double(options["--warmup"] ?? "2") ?? 2
        let connections = max(1, Int(options["--connections"] ?? "1") ?? 1)
        let path = options["--path"] ?? "/interop.Echo/Echo"
        let request = [UInt8](repeating: 0x2A, count: Int(options["--size"] ?? "32") ?? 32)

        let security: ChannelSecurity
        if options["--insecure"] != nil {
            security = .insecure
        } else {
            security = .mutualTLS(
                trustRootsPath: options["--ca"] ?? "ca.pem", certificateChainPath: options["--cert"] ?? "client.pem",
                privateKeyPath: options["--key"] ?? "client.key")
        }
        let channels = try (0..<connections).map { _ in
            try Channel(configuration: ChannelConfiguration(target: target, security: security))
        }
        let options_ = CallOptions(timeout: .seconds(30), waitForReady: true)
        for channel in channels { _ = try await channel.unary(path: path, request: request, options: options_) }

        let clock = ContinuousClock()
        let measureStart = clock.now + .milliseconds(Int64(warmup * 1000))
        let end = measureStart + .milliseconds(Int64(duration * 1000))
        let results = await withTaskGroup(of: ([Int64], Int).self) { group in
            for worker in 0..<concurrency {
                let channel = channels[worker % channels.count]
                group.addTask {
                    var latencies: [Int64] = []
                    latencies.reserveCapacity(Int(duration) * 20_000 / max(1, concurrency / 8))
                    var errors = 0
                    while true {
                        let started = clock.now
                        if started >= end { break }
                        do {
                            _ = try await channel.unary(path: path, request: request, options: options_)
                            if started >= measureStart {
                                let elapsed = clock.now - started
                                latencies.append(elapsed.components.seconds * 1_000_000_000
                                    + elapsed.components.attoseconds / 1_000_000_000)
                            }
                        } catch {
                            if started >= measureStart { errors += 1 }
                        }
                    }
                    return (latencies, errors)
                }
            }
            var all: [Int64] = []
            var errors = 0
            for await (latencies, failed) in group {
                all.append(contentsOf: latencies)
                errors += failed
            }
            return (all.sorted(), errors)
        }
        let (latencies, errors) = results
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let index = min(latencies.count - 1, Int(Double(latencies.count) * p))
            return Double(latencies[index]) / 1000
        }
        let rate = Double(latencies.count) / duration
        let line = "calls_per_s=\(Int(rate)) p50_us=\(Int(percentile(0.50))) p90_us=\(Int(percentile(0.90)))"
            + " p99_us=\(Int(percentile(0.99))) calls=\(latencies.count) errors=\(errors)"
            + " concurrency=\(concurrency) connections=\(connections)"
        print(line)
    }
}
