// Real HTTP through Foundation's URLSession (libcurl on Linux): outbound calls are few and not on the
// RPC path, so the toolchain's client is enough and costs no dependency.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends requests over the network: https only (plain http only to a loopback host, where the test receivers and
/// local sidecars live), following a redirect only within the origin the request was sent to.
public final class LiveHTTPDelivery: HTTPDelivery {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: SameOriginRedirects(), delegateQueue: nil)
    }

    public func deliver(_ request: OutboundRequest) async -> DeliveryOutcome {
        await exchange(request).outcome
    }

    public func exchange(_ request: OutboundRequest) async -> HTTPAnswer {
        let (outcome, body) = await send(request)
        return HTTPAnswer(outcome: outcome, body: body)
    }

    private func send(_ request: OutboundRequest) async -> (DeliveryOutcome, [UInt8]) {
        guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased(), let host = url.host,
              !host.isEmpty else {
            return (.permanent(reason: "invalid URL"), [])
        }
        // Signed bodies, bearer tokens and routing keys must not cross the network in clear text.
        guard scheme == "https" || (scheme == "http" && Self.isLoopback(host: host)) else {
            return (.permanent(reason: "refused \(scheme):// URL: only https:// is called (plain http:// only to a "
                               + "loopback host such as 127.0.0.1); fix the integration's URL"), [])
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = Data(request.body)
        // Foundation on Linux truncates the interval to whole seconds, and 0 would time out at once.
        urlRequest.timeoutInterval = max(1, request.timeoutSeconds.rounded(.up))
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.setValue(request.idempotencyKey, forHTTPHeaderField: "Idempotency-Key")
        if urlRequest.value(forHTTPHeaderField: "Content-Type") == nil {
            urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        do {
            let (data, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else {
                return (.retryable(reason: "no HTTP response", retryAfterSeconds: nil), [])
            }
            if (300..<400).contains(http.statusCode) {
                // Only a redirect `SameOriginRedirects` refused (or one without a Location) ends here.
                return (.permanent(reason: "HTTP \(http.statusCode): redirect to another origin not followed; "
                                   + "configure the final URL"), [])
            }
            return (.classify(status: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After")),
                    Array(data))
        } catch let error as URLError where error.code == .timedOut {
            return (.retryable(reason: "timed out after \(request.timeoutSeconds) s", retryAfterSeconds: nil), [])
        } catch let error as URLError {
            // The URL error's text can include the full URL (with tokens in it for some webhooks): keep the code only.
            return (.retryable(reason: "connection failed (URLError \(error.code.rawValue))", retryAfterSeconds: nil), [])
        } catch {
            return (.retryable(reason: "connection failed", retryAfterSeconds: nil), [])
        }
    }
}

extension LiveHTTPDelivery {
    /// Whether `host` names this machine: `localhost`, `::1` or an address in 127.0.0.0/8.
    static func isLoopback(host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil } && octets[0] == "127"
    }
}

/// Follows a redirect only when it stays within the origin (scheme, host and port) of the request: a webhook that
/// redirects elsewhere must not carry our signed body and credentials to a host nobody configured.
private final class SameOriginRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        let from = task.originalRequest?.url ?? response.url
        completionHandler(from.map(Self.origin) == request.url.map(Self.origin) && from != nil ? request : nil)
    }

    static func origin(_ url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? ""
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
    }
}
