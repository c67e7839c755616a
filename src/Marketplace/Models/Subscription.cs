using System.Text.Json.Serialization;

namespace Marketplace.Models;

/// <summary>The SaaS subscription object as the marketplace returns it (docs/marketplace.md#subscription-object).</summary>
public sealed record MarketplaceSubscription
{
    [JsonPropertyName("id")] public Guid Id { get; init; }
    [JsonPropertyName("publisherId")] public string PublisherId { get; init; } = "";
    [JsonPropertyName("offerId")] public string OfferId { get; init; } = "";
    [JsonPropertyName("planId")] public string PlanId { get; init; } = "";
    [JsonPropertyName("name")] public string Name { get; init; } = "";

    [JsonPropertyName("saasSubscriptionStatus")]
    public SubscriptionStatus SaasSubscriptionStatus { get; init; }

    [JsonPropertyName("beneficiary")] public Party? Beneficiary { get; init; }
    [JsonPropertyName("purchaser")] public Party? Purchaser { get; init; }

    /// <summary>Seats, per-seat plans only. The wire may carry a number, a string or nothing (docs/marketplace.md#subscription-object).</summary>
    [JsonPropertyName("quantity"), JsonConverter(typeof(LenientNullableIntConverter))]
    public int? Quantity { get; init; }

    [JsonPropertyName("term")] public SubscriptionTerm? Term { get; init; }
    [JsonPropertyName("autoRenew")] public bool AutoRenew { get; init; }
    [JsonPropertyName("isTest")] public bool IsTest { get; init; }
    [JsonPropertyName("isFreeTrial")] public bool IsFreeTrial { get; init; }
    [JsonPropertyName("allowedCustomerOperations")] public IReadOnlyList<string> AllowedCustomerOperations { get; init; } = [];
    [JsonPropertyName("sandboxType")] public string? SandboxType { get; init; }
    [JsonPropertyName("sessionMode")] public string? SessionMode { get; init; }
    [JsonPropertyName("created")] public DateTimeOffset? Created { get; init; }

    /// <summary>A reseller (CSP) purchase: the one who pays is not the one who uses it.</summary>
    [JsonIgnore]
    public bool IsResellerPurchase =>
        string.Equals(SandboxType, "Csp", StringComparison.OrdinalIgnoreCase)
        || (Purchaser?.TenantId is { Length: > 0 } p && Beneficiary?.TenantId is { Length: > 0 } b
            && !string.Equals(p, b, StringComparison.OrdinalIgnoreCase));

    public bool Allows(string customerOperation) =>
        AllowedCustomerOperations.Any(o => string.Equals(o.Trim(), customerOperation, StringComparison.OrdinalIgnoreCase));
}

public sealed record Party
{
    [JsonPropertyName("emailId")] public string? EmailId { get; init; }
    [JsonPropertyName("objectId")] public string? ObjectId { get; init; }
    [JsonPropertyName("tenantId")] public string? TenantId { get; init; }
    [JsonPropertyName("puid")] public string? Puid { get; init; }
}

public sealed record SubscriptionTerm
{
    /// <summary>ISO-8601 duration such as P1M or P1Y; kept as text because others may come.</summary>
    [JsonPropertyName("termUnit")] public string? TermUnit { get; init; }
    [JsonPropertyName("startDate")] public DateTimeOffset? StartDate { get; init; }
    [JsonPropertyName("endDate")] public DateTimeOffset? EndDate { get; init; }
    [JsonPropertyName("chargeDuration")] public string? ChargeDuration { get; init; }
}

/// <summary>Subscription life cycle (docs/marketplace.md#life-cycle). Unknown covers any value we do not know yet.</summary>
[JsonConverter(typeof(LenientEnumConverter<SubscriptionStatus>))]
public enum SubscriptionStatus
{
    Unknown = 0,
    NotStarted,
    PendingFulfillmentStart,
    Subscribed,
    Suspended,
    Unsubscribed,
}

/// <summary>Answer of Resolve (docs/marketplace.md#resolve).</summary>
public sealed record ResolvedPurchase
{
    [JsonPropertyName("id")] public Guid Id { get; init; }
    [JsonPropertyName("subscriptionName")] public string SubscriptionName { get; init; } = "";
    [JsonPropertyName("offerId")] public string OfferId { get; init; } = "";
    [JsonPropertyName("planId")] public string PlanId { get; init; } = "";

    [JsonPropertyName("quantity"), JsonConverter(typeof(LenientNullableIntConverter))]
    public int? Quantity { get; init; }

    [JsonPropertyName("subscription")] public MarketplaceSubscription? Subscription { get; init; }
}

public sealed record SubscriptionPage
{
    [JsonPropertyName("subscriptions")] public IReadOnlyList<MarketplaceSubscription> Subscriptions { get; init; } = [];
    [JsonPropertyName("@nextLink")] public string? NextLink { get; init; }
}

/// <summary>Body of Activate. The OpenAPI file requires it; we always send it (strict in what we send).</summary>
public sealed record ActivationRequest(
    [property: JsonPropertyName("planId")] string PlanId,
    [property: JsonPropertyName("quantity"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Quantity);
