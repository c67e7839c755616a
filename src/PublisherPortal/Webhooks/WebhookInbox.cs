using System.Text.Json;
using Marketplace.Models;
using Marketplace.Webhooks;
using PublisherPortal.Data;
using PublisherPortal.Observability;
using static PublisherPortal.Observability.PortalTelemetry;

namespace PublisherPortal.Webhooks;

/// <summary>What became of one delivery at the door. The endpoint turns each case into a status code.</summary>
public abstract record InboxOutcome
{
    /// <summary>Stored in the inbox and committed: answer 200, the processor takes it from here.</summary>
    public sealed record Accepted(long DeliveryId) : InboxOutcome;

    /// <summary>The operation was delivered before: answer 200 again (the marketplace retries until it gets one), apply nothing.</summary>
    public sealed record Duplicate(long DeliveryId) : InboxOutcome;

    /// <summary>The bearer token was refused. <paramref name="RetryLater"/>: we could not judge it (keys unavailable).</summary>
    public sealed record Unauthorized(long DeliveryId, string Reason, bool RetryLater) : InboxOutcome;

    public sealed record Malformed(long DeliveryId, string Reason) : InboxOutcome;
}

/// <summary>
/// The door of the webhook: checks who sent the delivery, stores it, and only then lets the endpoint answer.
/// Write first, then act (docs/architecture.md#principles): a 200 goes out only for a delivery that is committed to the database.
/// </summary>
public sealed partial class WebhookInbox(
    WebhookTokenValidator validator,
    WebhookDeliveryStore deliveries,
    InboxWriter inbox,
    WorkSignals signals,
    TimeProvider time,
    ILogger<WebhookInbox> logger)
{
    /// <summary>Headers worth keeping for support. Never the Authorization header: it is a credential.</summary>
    private static readonly string[] KeptHeaders =
        ["x-ms-requestid", "x-ms-correlationid", "content-type", "content-length", "user-agent", "x-forwarded-for"];

    private const int MaxHeaderLength = 256;

    public async Task<InboxOutcome> AcceptAsync(
        string? authorization, string body, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken ct = default)
    {
        var receivedAt = time.GetUtcNow();
        // Each value cut short: a header is the sender's to fill, up to Kestrel's 32 KiB for all of them.
        var keptHeaders = JsonSerializer.Serialize(headers
            .Where(h => KeptHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.Length <= MaxHeaderLength ? h.Value : h.Value[..MaxHeaderLength]));
        var parsed = TryParse(body, out var parseError);
        var delivery = new NewDelivery(
            receivedAt,
            parsed?.Id is { } id && id != Guid.Empty ? id : null,
            parsed?.SubscriptionId is { } sub && sub != Guid.Empty ? sub : null,
            string.IsNullOrWhiteSpace(parsed?.Action) ? null : parsed.Action.Trim(),
            parsed?.TimeStamp,
            body,
            keptHeaders,
            // A test: the marketplace's own test subscriptions, or the portal's self-test (an action the marketplace never sends).
            WebhookTestDelivery.IsTest(parsed?.Action) || (parsed?.Subscription?.IsTest ?? false));

        using var activity = WebhookTelemetry.Source.StartActivity("webhook receive");
        activity?.SetTag("marketplace.subscription_id", delivery.SubscriptionId);
        activity?.SetTag("marketplace.operation_id", delivery.OperationId);
        activity?.SetTag("marketplace.action", delivery.Action);
        using var scope = SubscriptionLogScope.Begin(logger, delivery.SubscriptionId);
        var outcome = await AcceptAsync(authorization, parsed, parseError, delivery with { TraceParent = CurrentTraceParent() }, ct);
        var result = outcome switch
        {
            InboxOutcome.Accepted => DeliveryResults.Accepted,
            InboxOutcome.Duplicate => DeliveryResults.Duplicate,
            InboxOutcome.Unauthorized => DeliveryResults.Unauthorized,
            _ => DeliveryResults.Malformed,
        };
        activity?.SetTag("portal.webhook.result", result);
        WebhookTelemetry.Deliveries.Add(1, new KeyValuePair<string, object?>("result", result));
        return outcome;
    }

    private async Task<InboxOutcome> AcceptAsync(
        string? authorization, MarketplaceOperation? parsed, string? parseError, NewDelivery delivery, CancellationToken ct)
    {
        // The token first: nothing from an unknown sender is processed, however well-formed.
        WebhookTokenValidation token;
        using (WebhookTelemetry.Source.StartActivity("webhook validate token"))
        {
            token = await validator.ValidateAsync(authorization, ct);
        }

        if (!token.IsValid)
        {
            var reason = token.ShouldRetryLater ? $"{token.Reason}; answered 503 so the marketplace delivers again" : token.Reason;
            var rejectedId = await deliveries.RecordRejectedAsync(delivery, DeliveryResults.Unauthorized, reason, BodyDigest.Of(delivery.Body), ct);
            Log.Unauthorized(logger, rejectedId, token.Failure, token.Reason);
            return new InboxOutcome.Unauthorized(rejectedId, reason, token.ShouldRetryLater);
        }

        if (parsed is null || delivery.OperationId is null || delivery.SubscriptionId is null || delivery.Action is null)
        {
            var reason = parsed is null ? $"not a JSON operation: {parseError}" : MissingFields(delivery);
            var malformedId = await deliveries.RecordRejectedAsync(delivery, DeliveryResults.Malformed, reason, BodyDigest.Of(delivery.Body), ct);
            Log.Malformed(logger, malformedId, reason);
            return new InboxOutcome.Malformed(malformedId, reason);
        }

        string result;
        long deliveryId;
        using (WebhookTelemetry.Source.StartActivity("webhook inbox write"))
        {
            (result, deliveryId) = await inbox.WriteAsync(delivery, ct);
        }

        if (result == DeliveryResults.Duplicate)
        {
            Log.Duplicate(logger, deliveryId, delivery.OperationId.Value);
            return new InboxOutcome.Duplicate(deliveryId);
        }

        Log.Accepted(logger, deliveryId, delivery.Action, delivery.OperationId.Value, delivery.SubscriptionId.Value);
        signals.Deliveries.Notify();
        return new InboxOutcome.Accepted(deliveryId);
    }

    /// <summary>Lenient (docs/marketplace.md#webhook-payload: "never deserialize strictly"); a body that is not an
    /// operation at all is Malformed.</summary>
    internal static MarketplaceOperation? TryParse(string body, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(body))
        {
            error = "empty body";
            return null;
        }

        try
        {
            var operation = JsonSerializer.Deserialize<MarketplaceOperation>(body, MarketplaceJson.Options);
            if (operation is null)
            {
                error = "null";
            }

            return operation;
        }
        catch (JsonException e)
        {
            // The message names the path and position only, never the payload.
            error = e.Path is { Length: > 0 } path ? $"invalid at {path}" : "invalid JSON";
            return null;
        }
    }

    private static string MissingFields(NewDelivery d) =>
        "missing " + string.Join(", ", new[]
        {
            d.OperationId is null ? "id" : null,
            d.SubscriptionId is null ? "subscriptionId" : null,
            d.Action is null ? "action" : null,
        }.OfType<string>());

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery {DeliveryId} accepted: {Action} operation {OperationId} on {SubscriptionId}")]
        public static partial void Accepted(ILogger logger, long deliveryId, string action, Guid operationId, Guid subscriptionId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery {DeliveryId} repeats operation {OperationId}; answered 200, not applied again")]
        public static partial void Duplicate(ILogger logger, long deliveryId, Guid operationId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} refused (401): {Failure} ({Reason})")]
        public static partial void Unauthorized(ILogger logger, long deliveryId, WebhookTokenFailure failure, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} malformed (400): {Reason}")]
        public static partial void Malformed(ILogger logger, long deliveryId, string reason);
    }
}
