// What ends a command unsuccessfully: a one-line message for people and the exit code for scripts,
// including how every gRPC status a call can end with is told to the user.
import ArgumentParser
import Foundation
import RPC

/// A failure a command reports on stderr, in one line, before exiting with `exitCode`.
struct CLIFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }

    /// The message and exit code for a call that ended with `error`.
    ///
    /// `server` names the target for "cannot reach" messages; `incidentID` lets NOT_FOUND say which incident.
    init(_ error: RPCError, server: String, incidentID: String? = nil) {
        let detail = error.message.isEmpty ? error.code.description : error.message
        switch error.code {
        case .invalidArgument, .outOfRange:
            self.init("invalid request: \(detail)", exitCode: ExitStatus.dataError)
        case .notFound:
            if let incidentID {
                self.init("not found: incident \(incidentID) does not exist", exitCode: ExitStatus.notFound)
            } else {
                self.init("not found: \(detail)", exitCode: ExitStatus.notFound)
            }
        case .alreadyExists:
            self.init("already exists: \(detail)", exitCode: ExitStatus.alreadyExists)
        case .failedPrecondition:
            self.init("failed precondition: \(detail) (statuses move NEW → ACKNOWLEDGED → IN_PROGRESS → "
                      + "RESOLVED → CLOSED; RESOLVED → IN_PROGRESS reopens)",
                      exitCode: ExitStatus.failedPrecondition)
        case .aborted:
            self.init("conflict: \(detail)", exitCode: ExitStatus.temporary)
        case .deadlineExceeded:
            self.init("timed out: \(server) did not answer in time (raise --timeout?)", exitCode: ExitStatus.temporary)
        case .resourceExhausted:
            let retry = error.trailingMetadata.first("retry-after").map { " (retry after \($0)s)" } ?? ""
            self.init("too busy: \(detail)\(retry)", exitCode: ExitStatus.temporary)
        case .cancelled:
            self.init("cancelled: \(detail)", exitCode: ExitStatus.temporary)
        case .permissionDenied:
            self.init("permission denied: \(detail)", exitCode: ExitStatus.permission)
        case .unauthenticated:
            self.init("not authenticated: \(detail)", exitCode: ExitStatus.permission)
        case .unavailable:
            self = Self.unreachable(server: server, message: error.message)
        case .unimplemented:
            self.init("not supported by this server: \(detail)", exitCode: ExitStatus.unimplemented)
        default:
            self.init("server error (\(error.code)): \(detail)", exitCode: ExitStatus.serverFailure)
        }
    }

    /// An UNAVAILABLE status told as what to check. The core's words say whether the connection failed (and
    /// why); anything else came from the service, which says what it cannot reach itself ("the database ...").
    static func unreachable(server: String, message: String) -> CLIFailure {
        let text = message.lowercased()
        // The core's text ends with the cause ("...: Connection refused"); the rest is noise here.
        let cause = message.components(separatedBy: ": ").last(where: { !$0.isEmpty }) ?? message
        if text.contains("certificate verify failed") {
            return CLIFailure("cannot trust \(server): its certificate does not chain to the CA given by --ca "
                              + "(or INCIDENTCTL_CA) [certificate verify failed]", exitCode: ExitStatus.config)
        }
        if text.contains("empty address list") || text.contains("secure subchannel") {
            return CLIFailure("cannot set up TLS to \(server): does the key (--key) belong to the certificate "
                              + "(--cert)?", exitCode: ExitStatus.config)
        }
        if text.contains("domain name not found") || text.contains("dns resolution") {
            return CLIFailure("cannot reach \(server): the host name does not resolve [\(cause)]",
                              exitCode: ExitStatus.unavailable)
        }
        if text.contains("socket closed") || text.contains("handshake") {
            return CLIFailure("cannot reach \(server): the connection closed while being set up; is the server "
                              + "running, and does it trust the client certificate (--cert)? [\(cause)]",
                              exitCode: ExitStatus.unavailable)
        }
        let connectionWords = ["connect", "refused", "reset", "broken pipe", "unreachable", "goaway", "eof",
                               "closed", "backends"]
        if text.isEmpty || connectionWords.contains(where: { text.contains($0) }) {
            return CLIFailure("cannot reach \(server): is the server running? (make run) [\(cause)]",
                              exitCode: ExitStatus.unavailable)
        }
        return CLIFailure("unavailable: \(message)", exitCode: ExitStatus.unavailable)
    }
}

/// Runs a command's body, turning every failure into its message on stderr and its exit code.
enum CommandRunner {
    static func run(server: String, incidentID: String? = nil, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CLIFailure {
            printError("incidentctl: \(failure.message)")
            throw ExitCode(failure.exitCode)
        } catch let error as RPCError {
            let failure = CLIFailure(error, server: server, incidentID: incidentID)
            printError("incidentctl: \(failure.message)")
            throw ExitCode(failure.exitCode)
        } catch let error as ChannelError {
            printError("incidentctl: \(error)")
            throw ExitCode(ExitStatus.config)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("incidentctl: \(error)")
            throw ExitCode(ExitStatus.serverFailure)
        }
    }
}
