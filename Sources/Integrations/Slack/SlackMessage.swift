// Slack Block Kit messages in the integration spec's form, and routing of incidents to channels.
import Foundation
import IncidentCore

/// Builds Slack messages for incidents.
public struct SlackMessages: Sendable {
    public var webhookURL: String
    public var routes: [SlackChannelRoute]
    public var defaultChannel: String
    /// Mentions by priority (`P0: ["@oncall", "@incident-commander"]`).
    public var mentions: [Priority: [String]]

    public init(webhookURL: String, routes: [SlackChannelRoute], defaultChannel: String, mentions: [Priority: [String]]) {
        self.webhookURL = webhookURL
        self.routes = routes
        self.defaultChannel = defaultChannel
        self.mentions = mentions
    }

    /// The channel an incident is announced in.
    public func channel(for incident: IncidentSummary) -> String {
        routes.channel(priority: incident.priority, category: incident.category, fallback: defaultChannel)
    }

    /// The Block Kit payload: header, id/status/severity/category fields, description, Acknowledge and View buttons.
    /// `channel` overrides the channel routing (a routing rule named the channel).
    public func payload(for incident: IncidentSummary, channel: String? = nil) -> [String: Any] {
        var blocks: [[String: Any]] = [
            ["type": "header", "text": ["type": "plain_text", "text": "\(incident.priority) Incident: \(incident.title)".prefix(150).description]],
            ["type": "section", "fields": [
                ["type": "mrkdwn", "text": "*Incident ID:*\n\(escape(incident.id))"],
                ["type": "mrkdwn", "text": "*Status:*\n\(escape(incident.status))"],
                ["type": "mrkdwn", "text": "*Severity:*\n\(incident.priority)"],
                ["type": "mrkdwn", "text": "*Category:*\n\(escape(incident.category))"],
            ]],
            ["type": "section", "text": ["type": "mrkdwn", "text": "*Description:*\n\(escape(incident.description).prefix(2900))"]],
            ["type": "actions", "elements": [
                ["type": "button", "text": ["type": "plain_text", "text": "Acknowledge"], "value": incident.id,
                 "action_id": "acknowledge_incident"],
                ["type": "button", "text": ["type": "plain_text", "text": "View Details"], "url": incident.url],
            ]],
        ]
        // The fallback text is mrkdwn too (notifications and clients without blocks show it): a title such as
        // `<!channel>` must not ping anyone. The configured mentions are added unescaped, on purpose.
        var text = "\(incident.priority) \(escape(incident.title)) (\(escape(incident.id)))"
        if let groups = mentions[incident.priority], !groups.isEmpty {
            let line = groups.joined(separator: " ")
            blocks.insert(["type": "section", "text": ["type": "mrkdwn", "text": line]], at: 1)
            text = "\(line) \(text)"
        }
        return ["channel": channel ?? self.channel(for: incident), "text": text, "blocks": blocks]
    }

    /// The request posting the message to the incoming webhook.
    public func request(
        for incident: IncidentSummary, channel: String? = nil, idempotencyKey: String
    ) -> OutboundRequest {
        let object = payload(for: incident, channel: channel)
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return OutboundRequest(integration: "slack", url: webhookURL, headers: ["Content-Type": "application/json"],
                               body: Array(body), idempotencyKey: idempotencyKey)
    }

    /// The `response_url` update after a button acknowledged `incidentID`: replaces the original message (its
    /// buttons go with it, so nobody presses Acknowledge twice) with one naming the Slack user and the identity.
    public static func acknowledgedUpdate(
        incidentID: String, slackUser: String, slackUserID: String, identity: String, responseURL: String
    ) -> OutboundRequest {
        let who = "\(escape(slackUser)) (<@\(escape(slackUserID))>, as \(escape(identity)))"
        let text = "\(escape(incidentID)) acknowledged by \(who)"
        let object: [String: Any] = [
            "replace_original": true, "text": text,
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": ":white_check_mark: *\(escape(incidentID))* acknowledged"]],
                ["type": "context", "elements": [["type": "mrkdwn", "text": "Acknowledged via Slack by \(who)"]]],
            ],
        ]
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        // One update per incident: a retried delivery (or a second press racing the first) replaces the same text.
        return OutboundRequest(integration: "slack", url: responseURL, headers: ["Content-Type": "application/json"],
                               body: Array(body), idempotencyKey: "\(incidentID):slack-acknowledged")
    }

    private func escape(_ text: String) -> String { Self.escape(text) }

    /// Slack's mrkdwn treats `&`, `<` and `>` as control characters: user text must not open links or mentions.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
