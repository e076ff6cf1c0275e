// The served call's state machine alone: every transition and the action it returns, with plain values for
// the handler's task, the writer, the reader, the messages and the final status (no C core involved).
@testable import RPC
import Testing

@Suite("Server call state machine")
struct ServerCallStateMachineTests {
    typealias Machine = ServerCallStateMachine<String, String, String, String, String>
    let cancelled = RPCError(.cancelled, "call cancelled")
    let unavailable = RPCError(.unavailable, "server is shutting down")

    // MARK: the handler's task and the end of the call

    @Test("a handler started on a live call is kept, and cancelled when the client cancels")
    func handlerThenClientCancel() {
        var machine = Machine()
        #expect(machine.handlerStarted("task") == .none)
        #expect(machine.endReason == nil)
        #expect(machine.cancelledByClient() == .cancel("task"))
        #expect(machine.endReason == .clientCancelled)
        #expect(machine.cancelledByClient() == .none)
    }

    @Test("a cancellation before the handler's task exists cancels the task as it is handed over")
    func cancelBeforeHandler() {
        var machine = Machine()
        #expect(machine.cancelledByClient() == .cancel(nil))
        #expect(machine.handlerStarted("task") == .cancel("task"))
    }

    @Test("shutdown before the handler exists, and shutdown after a client cancel, both end the call as shutdown")
    func shutdownTransitions() {
        var early = Machine()
        #expect(early.endForShutdown() == .cancel(nil))
        #expect(early.handlerStarted("task") == .cancel("task"))
        #expect(early.endForShutdown() == .none)
        #expect(early.cancelledByClient() == .none)
        #expect(early.endReason == .shutdown)

        var cancelledFirst = Machine()
        _ = cancelledFirst.handlerStarted("task")
        _ = cancelledFirst.cancelledByClient()
        #expect(cancelledFirst.endForShutdown() == .cancel("task"))
        #expect(cancelledFirst.endReason == .shutdown)
    }

    @Test("finishing sends the final status once, with the initial metadata when nothing was sent before")
    func finishOnce() {
        var machine = Machine()
        _ = machine.handlerStarted("task")
        #expect(machine.finish("ok") == .send("ok", includeInitialMetadata: true))
        #expect(machine.finish("again") == .none)
        // A finished call ignores a late cancellation, shutdown and handler.
        #expect(machine.cancelledByClient() == .none)
        #expect(machine.endForShutdown() == .none)
        #expect(machine.handlerStarted("late") == .none)
        #expect(machine.endReason == nil)
    }

    @Test("a call finished before its handler started (refused by admission) never cancels the late task")
    func finishBeforeHandler() {
        var machine = Machine()
        #expect(machine.finish("refused") == .send("refused", includeInitialMetadata: true))
        #expect(machine.handlerStarted("task") == .none)
    }

    @Test("a cancelled call still sends the handler's final status and remembers why it ended")
    func finishAfterCancel() {
        var machine = Machine()
        _ = machine.handlerStarted("task")
        _ = machine.cancelledByClient()
        #expect(machine.finish("cancelled") == .send("cancelled", includeInitialMetadata: true))
        #expect(machine.endReason == .clientCancelled)
    }

    // MARK: writes

    @Test("a single write carries the initial metadata first, then not again; its completion resumes the writer")
    func singleWrites() {
        var machine = Machine()
        #expect(machine.write(["a"], writer: "w1") == .start("a", includeInitialMetadata: true, bufferHint: false))
        #expect(machine.writeCompleted(success: true) == .resume("w1", nil))
        #expect(machine.write(["b"], writer: "w2") == .start("b", includeInitialMetadata: false, bufferHint: false))
        #expect(machine.writeCompleted(success: true) == .resume("w2", nil))
        #expect(machine.finish("ok") == .send("ok", includeInitialMetadata: false))
    }

    @Test("a run starts each next message on completion; the hint rides all but the last, never beside the headers")
    func runOfMessages() {
        var machine = Machine()
        #expect(machine.write(["a", "b", "c"], writer: "w") == .start("a", includeInitialMetadata: true, bufferHint: false))
        #expect(machine.writeCompleted(success: true) == .startNext("b", includeInitialMetadata: false, bufferHint: true))
        #expect(machine.writeCompleted(success: true) == .startNext("c", includeInitialMetadata: false, bufferHint: false))
        #expect(machine.writeCompleted(success: true) == .resume("w", nil))
        #expect(machine.writeCompleted(success: true) == .none)
    }

    @Test("a second write while one is in flight is refused, and the first goes on")
    func concurrentWriteRefused() {
        var machine = Machine()
        _ = machine.write(["a"], writer: "w1")
        #expect(machine.write(["b"], writer: "w2")
            == .refuse("w2", RPCError(.failedPrecondition, "responses are written one at a time")))
        #expect(machine.writeCompleted(success: true) == .resume("w1", nil))
    }

    @Test("writes after a cancellation, a shutdown or the end are refused with the matching status")
    func writeRefusals() {
        var clientGone = Machine()
        _ = clientGone.cancelledByClient()
        #expect(clientGone.write(["a"], writer: "w") == .refuse("w", cancelled))

        var shutdown = Machine()
        _ = shutdown.endForShutdown()
        #expect(shutdown.write(["a"], writer: "w") == .refuse("w", unavailable))

        var ended = Machine()
        _ = ended.finish("ok")
        #expect(ended.write(["a"], writer: "w")
            == .refuse("w", RPCError(.failedPrecondition, "the stream has already ended")))

        var shutdownThenEnded = Machine()
        _ = shutdownThenEnded.endForShutdown()
        _ = shutdownThenEnded.finish("unavailable")
        #expect(shutdownThenEnded.write(["a"], writer: "w") == .refuse("w", unavailable))
    }

    @Test("a cancellation arriving while a send is in flight: the send's failure answers CANCELLED")
    func cancelDuringSend() {
        var machine = Machine()
        _ = machine.handlerStarted("task")
        _ = machine.write(["a", "b"], writer: "w")
        #expect(machine.cancelledByClient() == .cancel("task"))
        #expect(machine.writeCompleted(success: false) == .resume("w", cancelled))
    }

    @Test("a cancellation arriving after a run's message completed stops the run before its next message")
    func cancelBetweenRunMessages() {
        var machine = Machine()
        _ = machine.write(["a", "b"], writer: "w")
        _ = machine.endForShutdown()
        #expect(machine.writeCompleted(success: true) == .resume("w", unavailable))
        #expect(machine.write(["c"], writer: "w2") == .refuse("w2", unavailable))
    }

    @Test("a cancellation after the last message was sent leaves that write successful")
    func cancelAfterSend() {
        var machine = Machine()
        _ = machine.write(["a"], writer: "w")
        _ = machine.cancelledByClient()
        #expect(machine.writeCompleted(success: true) == .resume("w", nil))
    }

    @Test("a failed send with no cancellation seen yet answers CANCELLED; during shutdown UNAVAILABLE")
    func failedSend() {
        var machine = Machine()
        _ = machine.write(["a"], writer: "w")
        #expect(machine.writeCompleted(success: false) == .resume("w", cancelled))

        var shutdown = Machine()
        _ = shutdown.write(["a"], writer: "w")
        _ = shutdown.endForShutdown()
        #expect(shutdown.writeCompleted(success: false) == .resume("w", unavailable))
    }

    @Test("the core refusing to start a send hands the writer back with INTERNAL and frees the send side")
    func sendStartRefused() {
        var machine = Machine()
        _ = machine.write(["a", "b"], writer: "w")
        #expect(machine.writeStartFailed() == .resume("w", RPCError(.internal, "the core refused a stream write")))
        #expect(machine.writeStartFailed() == .none)
        #expect(machine.writeCompleted(success: true) == .none)
        #expect(machine.write(["c"], writer: "w2") == .start("c", includeInitialMetadata: false, bufferHint: false))
    }

    @Test("finishing while a write is in flight defers the final status until that write completed")
    func finishDuringWrite() {
        var machine = Machine()
        _ = machine.write(["a"], writer: "w")
        #expect(machine.finish("ok") == .deferred)
        #expect(machine.finish("again") == .none)
        #expect(machine.writeCompleted(success: true)
            == .resumeAndSendFinal("w", nil, "ok", includeInitialMetadata: false))
        #expect(machine.writeCompleted(success: true) == .none)
    }

    @Test("finishing during a run cuts the run: the writer learns the stream ended, then the status goes")
    func finishDuringRun() {
        var machine = Machine()
        _ = machine.write(["a", "b"], writer: "w")
        #expect(machine.finish("ok") == .deferred)
        #expect(machine.writeCompleted(success: true) == .resumeAndSendFinal(
            "w", RPCError(.failedPrecondition, "the stream has already ended"), "ok", includeInitialMetadata: false))
    }

    @Test("a final status deferred behind a write whose start the core then refused goes at once")
    func finishBeforeRefusedStart() {
        var machine = Machine()
        _ = machine.write(["a"], writer: "w")
        #expect(machine.finish("ok") == .deferred)
        #expect(machine.writeStartFailed() == .resumeAndSendFinal(
            "w", RPCError(.internal, "the core refused a stream write"), "ok", includeInitialMetadata: false))
        #expect(machine.writeCompleted(success: false) == .none)
    }

    @Test("a deferred final status still goes when the write it waited for failed")
    func finishDuringFailedWrite() {
        var machine = Machine()
        _ = machine.write(["a"], writer: "w")
        _ = machine.cancelledByClient()
        #expect(machine.finish("cancelled") == .deferred)
        #expect(machine.writeCompleted(success: false)
            == .resumeAndSendFinal("w", cancelled, "cancelled", includeInitialMetadata: false))
    }

    // MARK: reads

    @Test("reads: one at a time, each completion delivers, a half-close ends the requests for good")
    func reads() {
        var machine = Machine()
        #expect(machine.read(reader: "r1") == .start)
        #expect(machine.read(reader: "r2")
            == .refuse("r2", RPCError(.failedPrecondition, "requests are read one at a time")))
        #expect(machine.readCompleted(message: true, failed: false) == .deliver("r1"))
        #expect(machine.read(reader: "r3") == .start)
        #expect(machine.readCompleted(message: false, failed: false) == .deliver("r3"))
        #expect(machine.read(reader: "r4") == .endOfRequests("r4"))
        #expect(machine.readCompleted(message: false, failed: false) == .none)
    }

    @Test("a read the core failed (a cancelled call's read looks like a half-close) answers CANCELLED, not the end")
    func failedRead() {
        var machine = Machine()
        _ = machine.read(reader: "r")
        #expect(machine.readCompleted(message: false, failed: true) == .fail("r", cancelled))
        #expect(machine.read(reader: "r2") == .start)
    }

    @Test("a cancellation or shutdown arriving while a read is in flight fails that read and refuses the next")
    func cancelDuringRead() {
        var machine = Machine()
        _ = machine.read(reader: "r")
        _ = machine.cancelledByClient()
        #expect(machine.readCompleted(message: true, failed: false) == .fail("r", cancelled))
        #expect(machine.read(reader: "r2") == .refuse("r2", cancelled))

        var shutdown = Machine()
        _ = shutdown.read(reader: "r")
        _ = shutdown.endForShutdown()
        #expect(shutdown.readCompleted(message: false, failed: false) == .fail("r", unavailable))
    }

    @Test("the core refusing to start a read hands the reader back")
    func readStartRefused() {
        var machine = Machine()
        _ = machine.read(reader: "r")
        #expect(machine.readStartFailed() == "r")
        #expect(machine.readStartFailed() == nil)
        #expect(machine.read(reader: "r2") == .start)

        var finished = Machine()
        _ = finished.read(reader: "r")
        _ = finished.finish("ok")
        #expect(finished.readStartFailed() == "r")
        #expect(finished.readCompleted(message: true, failed: false) == .none)
    }

    @Test("after the end, reads answer the end of requests if the client half-closed, else that the call ended")
    func readsAfterFinish() {
        var halfClosed = Machine()
        _ = halfClosed.read(reader: "r")
        _ = halfClosed.readCompleted(message: false, failed: false)
        _ = halfClosed.finish("ok")
        #expect(halfClosed.read(reader: "r2") == .endOfRequests("r2"))

        var open = Machine()
        _ = open.finish("ok")
        #expect(open.read(reader: "r") == .refuse("r", RPCError(.failedPrecondition, "the call has already ended")))

        var cancelled = Machine()
        _ = cancelled.cancelledByClient()
        _ = cancelled.finish("cancelled")
        #expect(cancelled.read(reader: "r") == .refuse("r", self.cancelled))
    }

    @Test("a read in flight when the handler finished is still answered when its batch completes")
    func readCompletesAfterFinish() {
        var machine = Machine()
        _ = machine.read(reader: "r")
        _ = machine.finish("ok")
        #expect(machine.readCompleted(message: true, failed: false) == .deliver("r"))
        #expect(machine.readCompleted(message: true, failed: false) == .none)
    }
}
