using System.Data.Common;
using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Entitlements;

/// <summary>The CloudEvents types the product receives, one per kind of entitlement change.</summary>
public static class EntitlementEventTypes
{
    public const string Prefix = "com.publisherportal.entitlement.";

    /// <summary>The history event kinds that change what the product must allow, and the event type each becomes.</summary>
    public static string? For(string historyKind) => historyKind switch
    {
        EventKinds.Activated => Prefix + "activated",
        EventKinds.Configured => Prefix + "configured",
        EventKinds.AwaitingApproval => Prefix + "awaiting_approval",
        EventKinds.PlanChanged => Prefix + "plan_changed",
        EventKinds.QuantityChanged => Prefix + "seats_changed",
        EventKinds.Suspended => Prefix + "suspended",
        EventKinds.Reinstated => Prefix + "reinstated",
        EventKinds.Renewed => Prefix + "renewed",
        EventKinds.Unsubscribed => Prefix + "cancelled",
        EventKinds.StatusCorrected => Prefix + "status_corrected",
        _ => null,
    };
}

/// <summary>
/// Turns every entitlement change into a CloudEvent in the outbox, in the transaction of the change: committed with it
/// or not at all, so the product is never told of a change that did not happen nor misses one that did. One delivery
/// row per enabled endpoint is written with it.
/// </summary>
public sealed class EntitlementEventWriter(EntitlementReader reader, TimeProvider time) : ISubscriptionEventFollower
{
    public static readonly Uri Source = new("urn:publisherportal:entitlements");

    private static readonly JsonEventFormatter Formatter = new(new JsonSerializerOptions(JsonSerializerDefaults.Web), default);

    public async Task FollowAsync(SubscriptionEvent recorded, DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        if (EntitlementEventTypes.For(recorded.Kind) is not { } type
            || await reader.FindAsync(recorded.SubscriptionId, connection, tx, ct) is not { } entitlement)
        {
            return;
        }

        var now = time.GetUtcNow();
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            // The history event's id: the same change always has the same event id, whoever sends it how often.
            Id = "ent-" + recorded.Id,
            Source = Source,
            Type = type,
            Subject = entitlement.SubscriptionId.ToString("D"),
            Time = now,
            DataContentType = MediaTypeNames.Application.Json,
            Data = entitlement,
        };
        var payload = Encoding.UTF8.GetString(Formatter.EncodeStructuredModeMessage(cloudEvent, out _).Span);

        var eventId = await connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
            INSERT INTO entitlement_events (source_event_id, subscription_id, event_type, version, payload, created_at)
            VALUES (@sourceEventId, @subscriptionId, @type, @version, @payload, @now)
            ON CONFLICT (source_event_id) DO NOTHING
            RETURNING id
            """,
            new { sourceEventId = recorded.Id, subscriptionId = recorded.SubscriptionId.ToString("D"), type, version = entitlement.Version, payload, now },
            tx, cancellationToken: ct));
        if (eventId is null)
        {
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO entitlement_deliveries (event_id, endpoint_id, subscription_id, state, attempts, next_attempt_at, created_at)
            SELECT @eventId, id, @subscriptionId, @pending, 0, @now, @now FROM entitlement_endpoints WHERE enabled = @enabled
            """,
            new { eventId, subscriptionId = recorded.SubscriptionId.ToString("D"), pending = DeliveryStates.Pending, now, enabled = true },
            tx, cancellationToken: ct));
    }
}

public static class DeliveryStates
{
    public const string Pending = "Pending";

    /// <summary>Claimed by one instance under a lease; a lease that ran out means the holder died and the row is taken over.</summary>
    public const string Sending = "Sending";

    public const string Delivered = "Delivered";

    /// <summary>Refused for longer than the retry window; replay sends it again.</summary>
    public const string DeadLettered = "DeadLettered";
}
