// Runs of shared messages on a server stream (`write(contentsOf:)`: sent from the completion-queue thread with
// the buffer hint) and streams read on the completion-queue thread (`receiveStream`): order, flow control past the
// transport's write buffer, cancellation mid-run, and the status reaching the reader.
import Synchronization
import Testing
import RPC

@Suite("Shared message runs")
struct SharedMessageRunTests {
    @Test("runs of shared messages arrive complete and in order, in runs of 7, of 1 and of everything")
    func runsInOrder() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        // A run first on a fresh connection: nothing else makes the transport write the stream's headers.
        for run in [7, 1, 3000] {
            var received: [String] = []
            for try await message in channel.serverStreaming(
                path: TestService.path("CountInRuns"), request: Array("3000,\(run)".utf8), options: .test)
            {
                received.append(String(decoding: message, as: UTF8.self))
            }
            #expect(received == (1...3000).map(String.init), "runs of \(run)")
        }
    }

    @Test("a reader that stops holds a run back (flow control); cancelling it ends the run's writer")
    func stalledReaderThenCancel() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let firstSize = Collected()
        let reader = Task {
            var iterator = channel.serverStreaming(
                path: TestService.path("RunsForever"), request: Array("s".utf8), options: .test
            ).makeAsyncIterator()
            if let first = try await iterator.next() { firstSize.add("\(first.count)") }
            // Stop reading (until cancelled): the writer must be held by flow control.
            try await Task.sleep(for: .seconds(600))
        }
        #expect(await fixture.probe.wait(for: "runs-started:s"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(firstSize.all == ["1024"])
        #expect(fixture.probe.count("runs-ended:s") == 0)
        reader.cancel()
        _ = await reader.result
        #expect(await fixture.probe.wait(for: "runs-ended:s"))
        #expect(await fixture.probe.wait(for: "runs-context-cancelled:s"))
    }

    @Test("receiveStream hands every message in order on the completion-queue thread, then returns on OK")
    func receiveStreamInOrder() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let received = Collected()
        try await channel.receiveStream(
            path: TestService.path("CountInRuns"), request: Array("2000,64".utf8), options: .test
        ) { message in
            received.add(String(decoding: message, as: UTF8.self))
        }
        #expect(received.all == (1...2000).map(String.init))
    }

    @Test("receiveStream throws the call's status, and cancelling its task cancels the call")
    func receiveStreamStatusAndCancel() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let unknown = await status {
            try await channel.receiveStream(path: "/test.Echo/Missing", request: [], options: .test) { _ in }
        }
        #expect(unknown?.code == .unimplemented)

        let received = Collected()
        let reader = Task {
            await status {
                try await channel.receiveStream(
                    path: TestService.path("RunsForever"), request: Array("r".utf8), options: .test
                ) { _ in received.add("m") }
            }
        }
        #expect(await fixture.probe.wait(for: "runs-started:r"))
        // The handler records its start before its first write: cancel only once a message arrived, or a busy
        // machine cancels before any did.
        var polls = 0
        while received.all.isEmpty && polls < 2_000 {
            try await Task.sleep(for: .milliseconds(5))
            polls += 1
        }
        #expect(!received.all.isEmpty)
        reader.cancel()
        #expect(await reader.value?.code == .cancelled)
        #expect(await fixture.probe.wait(for: "runs-ended:r"))
    }
}

@Suite("Channel with its own completion queue")
struct OwnCompletionQueueTests {
    @Test("unary and streamed calls complete on the channel's own queue, and dropping the channel frees it")
    func ownQueue() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        for round in 0..<3 {
            let channel = try fixture.channel(ownCompletionQueue: true)
            let echoed = try await channel.unary(
                path: TestService.path("Echo"), request: [UInt8(round)], options: .test)
            #expect(echoed == [UInt8(round)])
            let received = Collected()
            try await channel.receiveStream(
                path: TestService.path("CountInRuns"), request: Array("100,10".utf8), options: .test
            ) { received.add(String(decoding: $0, as: UTF8.self)) }
            #expect(received.all == (1...100).map(String.init))
        }
    }
}

/// Messages collected from a completion-queue thread.
private final class Collected: Sendable {
    private let messages = Mutex<[String]>([])

    func add(_ message: String) { messages.withLock { $0.append(message) } }

    var all: [String] { messages.withLock { $0 } }
}
