// The service the RPC tests call: small methods that each exercise one behaviour of the layer.
import Foundation
import RPC

struct TestService: RegistrableService {
    let probe: Probe
    var gate = Gate()

    static func method(_ name: String) -> MethodDescriptor { MethodDescriptor(service: "test.Echo", method: name) }
    static func path(_ name: String) -> String { method(name).path }

    var methodHandlers: [(MethodDescriptor, ServerMethodHandler)] {
        let probe = probe
        let gate = gate
        return [
            // Echoes the request; reflects `x-request-id` into initial and trailing metadata.
            (Self.method("Echo"), .unary { request, context in
                if let id = context.requestMetadata.first("x-request-id") {
                    context.addInitialMetadata(id, forKey: "x-echo-initial")
                    context.addTrailingMetadata(id, forKey: "x-echo-trailing")
                }
                if case .binary(let blob)? = context.requestMetadata.values("x-blob-bin").first {
                    context.addTrailingMetadata(blob.reversed(), forKey: "x-blob-reversed-bin")
                }
                return request
            }),
            // Describes the caller's certificate identity as text.
            (Self.method("Peer"), .unary { _, context in
                guard let peer = context.peer else { return Array("none".utf8) }
                let text = [
                    peer.commonName ?? "-", peer.dnsNames.joined(separator: ","), peer.uris.joined(separator: ","),
                    peer.fingerprintSHA256,
                ].joined(separator: "|")
                return Array(text.utf8)
            }),
            // Answers with the name of the thread the handler runs on, before and after a suspension ("a|b").
            (Self.method("Thread"), .unary { _, _ in
                let before = currentThreadName()
                try await Task.sleep(for: .milliseconds(5))
                return Array("\(before)|\(currentThreadName())".utf8)
            }),
            // Answers with the client address the core reports (`ipv4:127.0.0.1:50312`).
            (Self.method("Address"), .unary { _, context in Array(context.peerAddress.utf8) }),
            // Reports the deadline the handler sees, in whole seconds remaining ("none" without one).
            (Self.method("Deadline"), .unary { _, context in
                guard let deadline = context.deadline else { return Array("none".utf8) }
                let remaining = deadline - ContinuousClock.now
                return Array(String(remaining.components.seconds).utf8)
            }),
            // Counts from 1 to the number in the request, one message each.
            (Self.method("Count"), .serverStreaming { request, writer, _ in
                let count = Int(String(decoding: request, as: UTF8.self)) ?? 0
                for index in 1...max(1, count) where count > 0 {
                    try await writer.write(Array(String(index).utf8))
                }
            }),
            // "N,R": sends 1 to N as shared messages in runs of R (one write per run).
            (Self.method("CountInRuns"), .serverStreaming { request, writer, _ in
                let numbers = String(decoding: request, as: UTF8.self).split(separator: ",").compactMap { Int($0) }
                guard numbers.count == 2, numbers[0] > 0, numbers[1] > 0 else { return }
                let messages = (1...numbers[0]).map { EncodedMessage(Array(String($0).utf8)) }
                for start in stride(from: 0, to: messages.count, by: numbers[1]) {
                    try await writer.write(contentsOf: Array(messages[start..<min(start + numbers[1], messages.count)]))
                }
            }),
            // Sends runs of 64 shared 1 KiB messages until the call ends; records how it ended.
            (Self.method("RunsForever"), .serverStreaming { request, writer, context in
                let tag = String(decoding: request, as: UTF8.self)
                let run = [EncodedMessage](repeating: EncodedMessage([UInt8](repeating: 0x61, count: 1024)), count: 64)
                probe.record("runs-started:\(tag)")
                do {
                    while true { try await writer.write(contentsOf: run) }
                } catch {
                    probe.record("runs-ended:\(tag)")
                    if context.isCancelled { probe.record("runs-context-cancelled:\(tag)") }
                    throw error
                }
            }),
            // Sends a message every 10 ms until the call ends; records how it ended.
            (Self.method("Forever"), .serverStreaming { request, writer, context in
                let tag = String(decoding: request, as: UTF8.self)
                probe.record("forever-started:\(tag)")
                do {
                    while true {
                        try await writer.write(Array("tick".utf8))
                        try await Task.sleep(for: .milliseconds(10))
                    }
                } catch {
                    probe.record("forever-ended:\(tag)")
                    if context.isCancelled { probe.record("forever-context-cancelled:\(tag)") }
                    throw error
                }
            }),
            // Waits until cancelled, then records it.
            (Self.method("Wait"), .unary { request, context in
                let tag = String(decoding: request, as: UTF8.self)
                probe.record("wait-started:\(tag)")
                do {
                    try await Task.sleep(for: .seconds(600))
                } catch {
                    probe.record("wait-cancelled:\(tag)")
                    if context.isCancelled { probe.record("wait-context-cancelled:\(tag)") }
                    throw error
                }
                return []
            }),
            // Sleeps the number of milliseconds in the request, then answers "done".
            (Self.method("Slow"), .unary { request, _ in
                let milliseconds = Int(String(decoding: request, as: UTF8.self)) ?? 0
                probe.record("slow-started")
                try await Task.sleep(for: .milliseconds(milliseconds))
                probe.record("slow-finished")
                return Array("done".utf8)
            }),
            // Throws an error whose text must not reach the client.
            (Self.method("Fail"), .unary { _, _ in
                throw SecretFailure(detail: "password=hunter2 at /var/lib/secret")
            }),
            // Answers with the status in the request (`code:message`).
            (Self.method("Status"), .unary { request, _ in
                let parts = String(decoding: request, as: UTF8.self).split(separator: ":", maxSplits: 1)
                var trailing = Metadata()
                trailing.addString("yes", forKey: "x-explained")
                throw RPCError(StatusCode(rawValue: Int(parts[0]) ?? 2), String(parts.last ?? ""),
                               trailingMetadata: trailing)
            }),
            // Client streaming: adds up the decimal numbers it is sent, answers the total.
            (Self.method("Sum"), .clientStreaming { requests, _ in
                var total = 0
                for try await request in requests { total += Int(String(decoding: request, as: UTF8.self)) ?? 0 }
                return Array(String(total).utf8)
            }),
            // Bidirectional: answers each request with "echo:<request>" as it arrives; "fail" ends the call with
            // INVALID_ARGUMENT.
            (Self.method("Chat"), .bidirectionalStreaming { requests, responses, _ in
                for try await request in requests {
                    let text = String(decoding: request, as: UTF8.self)
                    if text == "fail" { throw RPCError(.invalidArgument, "asked to fail") }
                    try await responses.write(Array("echo:\(text)".utf8))
                }
            }),
            // Bidirectional: the first request is a tag; then reads requests until the call ends, recording how.
            (Self.method("Listen"), .bidirectionalStreaming { requests, responses, context in
                var iterator = requests.makeAsyncIterator()
                let tag = try await iterator.next().map { String(decoding: $0, as: UTF8.self) } ?? "-"
                probe.record("listen-started:\(tag)")
                try await responses.write(Array("ready".utf8))
                do {
                    while try await iterator.next() != nil {}
                    probe.record("listen-half-closed:\(tag)")
                } catch let error as RPCError {
                    probe.record("listen-ended:\(tag):\(error.code)")
                    if context.isCancelled { probe.record("listen-context-cancelled:\(tag)") }
                    throw error
                }
            }),
            // Ignores cancellation until the test opens the gate.
            (Self.method("Stubborn"), .unary { _, _ in
                probe.record("stubborn-started")
                await gate.wait()
                probe.record("stubborn-finished")
                return []
            }),
        ]
    }
}

/// The kernel's name of the thread running the caller.
func currentThreadName() -> String {
    let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
    return comm.trimmingCharacters(in: .whitespacesAndNewlines)
}

struct SecretFailure: Error {
    var detail: String
}
