// The life of one served call as a value: every event (the handler started, a write asked for, a batch completed,
// the client cancelled, the server shuts down, the handler finished) is a transition that returns what the call
// must do next. `ServerCall` applies the transition under its lock and performs the action (C calls, resuming
// continuations, cancelling the handler's task) after releasing it. Pure and generic over the call's parts, so
// every transition is unit-tested without the C core.

/// The states and transitions of one served call; `ServerCall` performs the actions it returns.
struct ServerCallStateMachine<Handler, Writer, Reader, Message, Final> {
    /// Why a call ended before its handler finished.
    enum EndReason: Hashable, Sendable {
        case clientCancelled
        case shutdown

        /// What a write or read of a call ended this way answers.
        var error: RPCError {
            switch self {
            case .clientCancelled: RPCError(.cancelled, "call cancelled")
            case .shutdown: RPCError(.unavailable, "server is shutting down")
            }
        }
    }

    /// The sending half: one batch at a time (the core allows one send in flight).
    private enum Send {
        case idle
        /// A message in flight; `rest` are the messages of the same run, started one by one as each completes.
        case writing(Writer, rest: ArraySlice<Message>)
    }

    /// The receiving half of a call that streams its requests: one read in flight at most.
    private enum Receive {
        case idle
        case reading(Reader)
        /// The client half-closed: every request has been read.
        case ended
    }

    /// A call whose handler has not finished yet.
    private struct Open {
        var handler: Handler?
        var initialMetadataSent = false
        var send = Send.idle
        var receive = Receive.idle
    }

    /// A call whose handler finished (or that was answered without one).
    private struct Closed {
        /// Set when the client cancelled or the server shut down before the handler finished.
        var reason: EndReason?
        /// The final status waits for the write in flight: the send batch is busy until it completes.
        var deferred: (writer: Writer, final: Final, includeInitialMetadata: Bool, runCut: Bool)?
        var receive: Receive
    }

    private enum State {
        case open(Open, ended: EndReason?)
        case closed(Closed)
        /// Only while a transition runs (keeps the payloads uniquely referenced).
        case modifying
    }

    private var state = State.open(Open(), ended: nil)

    init() {}

    // MARK: actions

    /// What to do once the handler's task exists.
    enum HandlerAction {
        case none
        /// The call ended before the task existed: cancel it at once.
        case cancel(Handler)
    }

    /// What to do on the client's cancellation or the server's shutdown.
    enum EndAction {
        case none
        /// Mark the context cancelled and cancel the handler's task (if it runs yet). On shutdown also cancel the
        /// core call with `UNAVAILABLE`.
        case cancel(Handler?)
    }

    /// What to do with the final status the handler (or the server for it) produced.
    enum FinishAction {
        /// The call was already finished: drop this one.
        case none
        /// Start the final batch now.
        case send(Final, includeInitialMetadata: Bool)
        /// A write is in flight: the final batch starts when it completes (see `writeCompleted`).
        case deferred
    }

    /// What to do for a write the handler asked for.
    enum WriteAction {
        /// Resume the writer with this error; nothing was started.
        case refuse(Writer, RPCError)
        /// Start a send batch with this message.
        case start(Message, includeInitialMetadata: Bool, bufferHint: Bool)
    }

    /// What to do when the send batch of a write completed.
    enum WriteCompletionAction {
        case none
        /// Start the run's next message on this (completion-queue) thread; the writer keeps waiting.
        case startNext(Message, includeInitialMetadata: Bool, bufferHint: Bool)
        /// Resume the writer: with nil when everything it asked for was sent.
        case resume(Writer, RPCError?)
        /// Resume the writer, then start the final batch that waited for it.
        case resumeAndSendFinal(Writer, RPCError?, Final, includeInitialMetadata: Bool)
    }

    /// What to do for a read the handler asked for.
    enum ReadAction {
        case refuse(Reader, RPCError)
        /// The client half-closed earlier: resume the reader with nil.
        case endOfRequests(Reader)
        /// Start a receive batch.
        case start
    }

    /// What to do when the receive batch completed.
    enum ReadCompletionAction {
        case none
        /// Resume the reader with what the batch received (nil: the client half-closed).
        case deliver(Reader)
        case fail(Reader, RPCError)
    }

    // MARK: transitions

    /// The handler's task was created.
    mutating func handlerStarted(_ handler: Handler) -> HandlerAction {
        switch state {
        case .open(var open, ended: nil):
            open.handler = handler
            state = .open(open, ended: nil)
            return .none
        case .open(_, ended: .some):
            return .cancel(handler)
        case .closed:
            return .none
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The core reported the call cancelled (the client went away, a deadline passed).
    mutating func cancelledByClient() -> EndAction {
        switch state {
        case .open(let open, ended: nil):
            state = .open(open, ended: .clientCancelled)
            return .cancel(open.handler)
        case .open(_, ended: .some), .closed:
            // Shutdown already ended it, or the handler already answered.
            return .none
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The server shuts down while the handler runs: the client is to see `UNAVAILABLE`.
    mutating func endForShutdown() -> EndAction {
        switch state {
        case .open(let open, ended: nil), .open(let open, ended: .clientCancelled):
            state = .open(open, ended: .shutdown)
            return .cancel(open.handler)
        case .open(_, ended: .shutdown), .closed:
            return .none
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// Why the call ended early, if it did: a handler's thrown error is answered from this first.
    var endReason: EndReason? {
        switch state {
        case .open(_, let ended): ended
        case .closed(let closed): closed.reason
        case .modifying: preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The handler (or the server for it) produced the final status.
    mutating func finish(_ final: Final) -> FinishAction {
        switch state {
        case .open(let open, let ended):
            switch open.send {
            case .idle:
                state = .closed(Closed(reason: ended, deferred: nil, receive: open.receive))
                return .send(final, includeInitialMetadata: !open.initialMetadataSent)
            case .writing(let writer, let rest):
                // Another task still writes: the send batch is busy, so the status follows that write (and the
                // rest of its run is not sent).
                state = .closed(Closed(
                    reason: ended, deferred: (writer, final, !open.initialMetadataSent, !rest.isEmpty),
                    receive: open.receive))
                return .deferred
            }
        case .closed:
            return .none
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The handler asks to send `messages` (a run of one or more) in order.
    mutating func write(_ messages: [Message], writer: Writer) -> WriteAction {
        precondition(!messages.isEmpty, "an empty run is answered without the state machine")
        switch state {
        case .open(var open, ended: nil):
            guard case .idle = open.send else {
                return .refuse(writer, RPCError(.failedPrecondition, "responses are written one at a time"))
            }
            state = .modifying
            let action = Self.startNext(&open, writer: writer, run: messages[...])
            state = .open(open, ended: nil)
            return action
        case .open(_, ended: .some(let reason)):
            return .refuse(writer, reason.error)
        case .closed(let closed):
            return .refuse(writer, closed.reason?.error ?? RPCError(.failedPrecondition, "the stream has already ended"))
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    private static func startNext(_ open: inout Open, writer: Writer, run: ArraySlice<Message>) -> WriteAction {
        let message = run.first!
        let rest = run.dropFirst()
        // Never the hint beside the initial metadata: the core then defers writing the headers, and the batch
        // (which completes only once they are written) would wait for a write nothing starts.
        let bufferHint = !rest.isEmpty && open.initialMetadataSent
        let includeInitialMetadata = !open.initialMetadataSent
        open.initialMetadataSent = true
        open.send = .writing(writer, rest: rest)
        return .start(message, includeInitialMetadata: includeInitialMetadata, bufferHint: bufferHint)
    }

    /// The core refused to start the send batch `write` or `writeCompleted` asked for: the writer gets `INTERNAL`
    /// and the rest of its run is dropped; a final status that waited for this write goes now.
    mutating func writeStartFailed() -> WriteCompletionAction {
        let refused = RPCError(.internal, "the core refused a stream write")
        switch state {
        case .open(var open, let ended):
            guard case .writing(let writer, _) = open.send else { return .none }
            open.send = .idle
            state = .open(open, ended: ended)
            return .resume(writer, refused)
        case .closed(var closed):
            // The handler finished between this write's transition and its start.
            guard let deferred = closed.deferred else { return .none }
            closed.deferred = nil
            state = .closed(closed)
            return .resumeAndSendFinal(
                deferred.writer, refused, deferred.final, includeInitialMetadata: deferred.includeInitialMetadata)
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The send batch completed (`success == false`: the core could not send, the call is gone).
    mutating func writeCompleted(success: Bool) -> WriteCompletionAction {
        switch state {
        case .open(var open, let ended):
            guard case .writing(let writer, let rest) = open.send else { return .none }
            if !success {
                open.send = .idle
                state = .open(open, ended: ended)
                return .resume(writer, (ended ?? .clientCancelled).error)
            }
            if rest.isEmpty {
                open.send = .idle
                state = .open(open, ended: ended)
                return .resume(writer, nil)
            }
            if let ended {
                open.send = .idle
                state = .open(open, ended: ended)
                return .resume(writer, ended.error)
            }
            state = .modifying
            guard case .start(let message, let initial, let hint) = Self.startNext(&open, writer: writer, run: rest)
            else { preconditionFailure("startNext always starts") }
            state = .open(open, ended: ended)
            return .startNext(message, includeInitialMetadata: initial, bufferHint: hint)
        case .closed(var closed):
            guard let deferred = closed.deferred else { return .none }
            closed.deferred = nil
            state = .closed(closed)
            let error: RPCError? =
                if !success { (closed.reason ?? .clientCancelled).error }
                else if deferred.runCut { RPCError(.failedPrecondition, "the stream has already ended") }
                else { nil }
            return .resumeAndSendFinal(
                deferred.writer, error, deferred.final, includeInitialMetadata: deferred.includeInitialMetadata)
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The handler asks for the next request.
    mutating func read(reader: Reader) -> ReadAction {
        switch state {
        case .open(var open, let ended):
            if let ended { return .refuse(reader, ended.error) }
            switch open.receive {
            case .ended:
                return .endOfRequests(reader)
            case .reading:
                return .refuse(reader, RPCError(.failedPrecondition, "requests are read one at a time"))
            case .idle:
                open.receive = .reading(reader)
                state = .open(open, ended: ended)
                return .start
            }
        case .closed(let closed):
            if let reason = closed.reason { return .refuse(reader, reason.error) }
            if case .ended = closed.receive { return .endOfRequests(reader) }
            return .refuse(reader, RPCError(.failedPrecondition, "the call has already ended"))
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The core refused to start the receive batch `read` asked for: the reader to fail, if one waits.
    mutating func readStartFailed() -> Reader? {
        switch state {
        case .open(var open, let ended):
            guard case .reading(let reader) = open.receive else { return nil }
            open.receive = .idle
            state = .open(open, ended: ended)
            return reader
        case .closed(var closed):
            guard case .reading(let reader) = closed.receive else { return nil }
            closed.receive = .idle
            state = .closed(closed)
            return reader
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
    }

    /// The receive batch completed: `message` tells whether it carried a request, `failed` whether the core
    /// failed the read (a cancelled call's read looks like a half-close otherwise).
    mutating func readCompleted(message: Bool, failed: Bool) -> ReadCompletionAction {
        let reader: Reader
        let reason: EndReason?
        switch state {
        case .open(var open, let ended):
            guard case .reading(let waiting) = open.receive else { return .none }
            reader = waiting
            reason = ended
            open.receive = !message && !failed && ended == nil ? .ended : .idle
            state = .open(open, ended: ended)
        case .closed(var closed):
            guard case .reading(let waiting) = closed.receive else { return .none }
            reader = waiting
            reason = closed.reason
            closed.receive = !message && !failed && reason == nil ? .ended : .idle
            state = .closed(closed)
        case .modifying:
            preconditionFailure("ServerCallStateMachine used while modifying")
        }
        if let reason { return .fail(reader, reason.error) }
        if failed { return .fail(reader, EndReason.clientCancelled.error) }
        return .deliver(reader)
    }
}

extension ServerCallStateMachine.HandlerAction: Equatable where Handler: Equatable {}
extension ServerCallStateMachine.EndAction: Equatable where Handler: Equatable {}
extension ServerCallStateMachine.FinishAction: Equatable where Final: Equatable {}
extension ServerCallStateMachine.WriteAction: Equatable where Writer: Equatable, Message: Equatable {}
extension ServerCallStateMachine.WriteCompletionAction: Equatable
where Writer: Equatable, Message: Equatable, Final: Equatable {}
extension ServerCallStateMachine.ReadAction: Equatable where Reader: Equatable {}
extension ServerCallStateMachine.ReadCompletionAction: Equatable where Reader: Equatable {}
