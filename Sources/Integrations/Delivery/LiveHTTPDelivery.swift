// Real HTTP through Foundation's URLSession (libcurl on Linux): outbound calls are few and not on the
// RPC path, so the toolchain's client is enough and costs no dependency.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends requests over the network.
public final class LiveHTTPDelivery: HTTPDelivery {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    public func deliver(_ request: OutboundRequest) async -> DeliveryOutcome {
        guard let url = URL(string: request.url), url.scheme == "https" || url.scheme == "http" else {
            return .permanent(reason: "invalid URL")
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
            let (_, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else { return .retryable(reason: "no HTTP response", retryAfterSeconds: nil) }
            return .classify(status: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After"))
        } catch let error as URLError where error.code == .timedOut {
            return .retryable(reason: "timed out after \(request.timeoutSeconds) s", retryAfterSeconds: nil)
        } catch let error as URLError {
            // The URL error's text can include the full URL (with tokens in it for some webhooks): keep the code only.
            return .retryable(reason: "connection failed (URLError \(error.code.rawValue))", retryAfterSeconds: nil)
        } catch {
            return .retryable(reason: "connection failed", retryAfterSeconds: nil)
        }
    }
}
