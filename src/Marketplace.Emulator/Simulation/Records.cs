using Marketplace.Models;

namespace Marketplace.Emulator;

/// <summary>A customer buying an offer on the marketplace, as the simulator's caller describes it.</summary>
public sealed record PurchaseRequest
{
    public string OfferId { get; init; } = EmulatorCatalogue.InsightsOffer;
    public string PlanId { get; init; } = "team";

    /// <summary>Seats for per-seat plans; defaults to the plan's minimum. Ignored for flat plans.</summary>
    public int? Quantity { get; init; }

    public string? SubscriptionName { get; init; }

    /// <summary>Who uses the product; Alice unless told otherwise.</summary>
    public DemoIdentity Beneficiary { get; init; } = DemoIdentities.Alice;

    /// <summary>Who pays; the beneficiary unless told otherwise.</summary>
    public DemoIdentity? Purchaser { get; init; }

    /// <summary>A reseller (CSP) purchase: sandboxType "Csp" and only "Read" allowed to the customer.</summary>
    public bool ThroughReseller { get; init; }

    public string TermUnit { get; init; } = "P1M";
    public bool AutoRenew { get; init; } = true;
    public bool IsTest { get; init; }
    public bool IsFreeTrial { get; init; }

    /// <summary>Overrides the allowed customer operations (default Read, Update, Delete; Read for reseller purchases).</summary>
    public IReadOnlyList<string>? AllowedCustomerOperations { get; init; }

    /// <summary>Another publisher's purchase: the emulator's publisher must not be able to resolve or see it.</summary>
    public string? PublisherId { get; init; }

    /// <summary>The reseller purchase of the team notes: Bob uses it, Carla buys it through a CSP.</summary>
    public static PurchaseRequest ResellerDemo(string planId = "team", int? quantity = 10) => new()
    {
        PlanId = planId,
        Quantity = quantity,
        Beneficiary = DemoIdentities.Bob,
        Purchaser = DemoIdentities.Carla,
        ThroughReseller = true,
    };
}

/// <summary>What a purchase leaves behind: the new subscription, its landing-page token, and the link the customer follows.</summary>
public sealed record SimulatedPurchase(Guid SubscriptionId, string Token, Uri? LandingUrl, DateTimeOffset TokenExpiresAt);

/// <summary>One PATCH of an operation's status received from the publisher, with what the emulator answered.</summary>
public sealed record StatusUpdateReceived(Guid OperationId, string Status, DateTimeOffset ReceivedAt, int AnsweredStatusCode);

/// <summary>One attempt to deliver a webhook: when, and what came back (a status code, or the connection error).</summary>
public sealed record WebhookAttempt(Guid OperationId, int AttemptNumber, DateTimeOffset At, int? StatusCode, string? Error)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>The simulator was asked for something the marketplace would not do (unknown subscription, wrong state, …).</summary>
public sealed class SimulationRefusedException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}

/// <summary>A refusal of the fulfillment API: status, error code and a message, as the error body carries them.</summary>
internal sealed record ApiRefusal(int StatusCode, string Code, string Message)
{
    public static ApiRefusal NotFound(string message) => new(404, "NotFound", message);
    public static ApiRefusal BadRequest(string message) => new(400, "BadRequest", message);
    public static ApiRefusal Forbidden(string message) => new(403, "Forbidden", message);
    public static ApiRefusal Conflict(string message) => new(409, "Conflict", message);
}

/// <summary>Either the value or why the marketplace refused.</summary>
internal readonly record struct ApiResult<T>(T? Value, ApiRefusal? Refusal)
{
    public static implicit operator ApiResult<T>(ApiRefusal refusal) => new(default, refusal);
    public static ApiResult<T> Ok(T value) => new(value, null);
}

/// <summary>A stored operation and the moment it finishes by itself (publisher's change done, or Azure's change auto-accepted).</summary>
internal sealed class OperationEntry
{
    public required MarketplaceOperation Operation { get; set; }
    public DateTimeOffset? DueAt { get; set; }
}

internal sealed record PurchaseTokenEntry(Guid SubscriptionId, DateTimeOffset ExpiresAt);

/// <summary>Ways to spoil a webhook token, so the publisher's validator can be shown refusing each one.</summary>
public sealed record WebhookTokenOverrides
{
    public string? Issuer { get; init; }
    public string? Audience { get; init; }
    public string? TenantId { get; init; }
    /// <summary>Sets both appid and azp unless <see cref="Azp"/> is given.</summary>
    public string? AppId { get; init; }
    public string? Azp { get; init; }
    public DateTimeOffset? IssuedAt { get; init; }
    public TimeSpan? Lifetime { get; init; }
    public bool SignWithUnknownKey { get; init; }
}
