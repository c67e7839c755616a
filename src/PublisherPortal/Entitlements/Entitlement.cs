using System.Text.Json.Serialization;

namespace PublisherPortal.Entitlements;

/// <summary>
/// What the publisher's product needs to know about one subscription to decide who may use what: whether access is
/// granted (and why not), the plan, seats, term and the customer's set-up answers. <see cref="Version"/> grows with every
/// change of the subscription, so a product can tell a newer answer from an older one.
/// </summary>
public sealed record Entitlement
{
    public required Guid SubscriptionId { get; init; }
    public required string Name { get; init; }
    public required string OfferId { get; init; }
    public required EntitlementPlan Plan { get; init; }

    /// <summary>Seats bought; null for a flat-rate plan.</summary>
    public int? Seats { get; init; }

    public required EntitlementAccess Access { get; init; }

    /// <summary>The marketplace's status: PendingFulfillmentStart, Subscribed, Suspended or Unsubscribed.</summary>
    public required string Status { get; init; }

    public required EntitlementTerm Term { get; init; }
    public required EntitlementCustomer Customer { get; init; }

    /// <summary>The customer's answers to the offer's own questions, by field name.</summary>
    public required IReadOnlyDictionary<string, string?> CustomFields { get; init; }

    public bool IsTest { get; init; }
    public bool IsFreeTrial { get; init; }

    /// <summary>Grows with every change of this subscription (the id of its latest history event); never goes back.</summary>
    public required long Version { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed record EntitlementPlan(string Id, string DisplayName);

/// <summary>
/// Whether the customer may use the product now. <see cref="Reason"/> says why not, one of
/// <see cref="AccessReasons"/>; <see cref="EndsAt"/> is when the marketplace ends a suspended subscription nobody pays for.
/// </summary>
public sealed record EntitlementAccess
{
    public required bool Granted { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }

    public required string Detail { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? SuspendedSince { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? EndsAt { get; init; }
}

public static class AccessReasons
{
    /// <summary>Bought, but the customer has not finished setting up the account (or activation is under way).</summary>
    public const string PendingActivation = "PendingActivation";

    /// <summary>Set up, waiting for the publisher's operators to approve it.</summary>
    public const string AwaitingApproval = "AwaitingApproval";

    /// <summary>The marketplace suspended it (usually a payment problem); reinstated or ended later.</summary>
    public const string Suspended = "Suspended";

    /// <summary>Cancelled or ended; it does not come back.</summary>
    public const string Ended = "Ended";
}

/// <summary>The current term. <see cref="RenewsAt"/> is the term's end when it renews by itself, null when it lapses.</summary>
public sealed record EntitlementTerm(string? Unit, DateTimeOffset? Start, DateTimeOffset? End, bool AutoRenew, DateTimeOffset? RenewsAt);

/// <summary>Who uses it (the beneficiary) and, when a reseller or another tenant bought it, who paid.</summary>
public sealed record EntitlementCustomer(string? TenantId, string? ObjectId, string? Email, string? PurchaserTenantId);
