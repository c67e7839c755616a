using System.Data.Common;
using Marketplace.Models;

namespace PublisherPortal.Data;

/// <summary>Our row for a marketplace subscription: the marketplace's fields plus what the customer told us.</summary>
public sealed record SubscriptionRecord
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string PublisherId { get; init; } = "";
    public string OfferId { get; init; } = "";
    public string PlanId { get; init; } = "";
    public int? Quantity { get; init; }
    public SubscriptionStatus Status { get; init; }
    public string? BeneficiaryEmail { get; init; }
    public string? BeneficiaryObjectId { get; init; }
    public string? BeneficiaryTenantId { get; init; }
    public string? BeneficiaryPuid { get; init; }
    public string? PurchaserEmail { get; init; }
    public string? PurchaserObjectId { get; init; }
    public string? PurchaserTenantId { get; init; }
    public string? PurchaserPuid { get; init; }
    public string? TermUnit { get; init; }
    public DateTimeOffset? TermStart { get; init; }
    public DateTimeOffset? TermEnd { get; init; }
    public bool AutoRenew { get; init; }
    public bool IsTest { get; init; }
    public bool IsFreeTrial { get; init; }
    public string AllowedCustomerOperations { get; init; } = "";
    public string? SandboxType { get; init; }
    public string? SessionMode { get; init; }
    public DateTimeOffset? MarketplaceCreated { get; init; }
    public bool AccessEnabled { get; init; }
    public string? AccountOrganisation { get; init; }
    public string? AccountAdminName { get; init; }
    public string? AccountAdminEmail { get; init; }
    public string? AccountSettings { get; init; }
    public DateTimeOffset? ConfiguredAt { get; init; }
    public string? ConfiguredBy { get; init; }
    public int WizardStep { get; init; }
    public DateTimeOffset? LastMarketplaceChangeAt { get; init; }
    public DateTimeOffset FirstSeenAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? LastSyncedAt { get; init; }
    public long Version { get; init; }

    public bool IsResellerPurchase =>
        string.Equals(SandboxType, "Csp", StringComparison.OrdinalIgnoreCase)
        || (PurchaserTenantId is { Length: > 0 } && BeneficiaryTenantId is { Length: > 0 }
            && !string.Equals(PurchaserTenantId, BeneficiaryTenantId, StringComparison.OrdinalIgnoreCase));

    public bool Allows(string customerOperation) =>
        AllowedCustomerOperations.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Contains(customerOperation, StringComparer.OrdinalIgnoreCase);
}

/// <summary>One row of the history: a change of status, plan or seats, or a milestone around them.</summary>
public sealed record SubscriptionEvent
{
    public long Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public string OfferId { get; init; } = "";
    public DateTimeOffset OccurredAt { get; init; }
    public string Kind { get; init; } = "";
    public string? FromStatus { get; init; }
    public string? ToStatus { get; init; }
    public string? FromPlan { get; init; }
    public string? ToPlan { get; init; }
    public int? FromQuantity { get; init; }
    public int? ToQuantity { get; init; }
    public string Source { get; init; } = "";
    public string? Actor { get; init; }
    public Guid? OperationId { get; init; }
    public string? Detail { get; init; }

    /// <summary>The marketplace's timeStamp of the change behind this event; null for our own changes and milestones.</summary>
    public DateTimeOffset? MarketplaceTimeStamp { get; init; }

    /// <summary>
    /// An event that records a step without changing the subscription (awaiting approval, a decision, a refused change):
    /// status, plan and seats are the same before and after, so history and finance read them as "nothing moved".
    /// </summary>
    public static SubscriptionEvent Milestone(SubscriptionRecord current, string kind, DateTimeOffset at, string source, string? actor, string? detail) => new()
    {
        SubscriptionId = current.Id,
        OfferId = current.OfferId,
        OccurredAt = at,
        Kind = kind,
        FromStatus = current.Status.ToString(),
        ToStatus = current.Status.ToString(),
        FromPlan = current.PlanId,
        ToPlan = current.PlanId,
        FromQuantity = current.Quantity,
        ToQuantity = current.Quantity,
        Source = source,
        Actor = actor,
        Detail = detail,
    };
}

/// <summary>The kinds of history event. Text in the database, so finance can read it without a lookup.</summary>
public static class EventKinds
{
    public const string Resolved = "Resolved";
    public const string Configured = "Configured";
    public const string Activated = "Activated";
    public const string PlanChanged = "PlanChanged";
    public const string QuantityChanged = "QuantityChanged";
    public const string Suspended = "Suspended";
    public const string Reinstated = "Reinstated";
    public const string Unsubscribed = "Unsubscribed";
    public const string Renewed = "Renewed";
    public const string StatusCorrected = "StatusCorrected";
    public const string ChangeRefused = "ChangeRefused";
    public const string TenantMismatchConfirmed = "TenantMismatchConfirmed";
    public const string StaleDeliveryIgnored = "StaleDeliveryIgnored";

    /// <summary>An operator overrode an offer's change rule to send a change (detail = the rule and their reason).</summary>
    public const string ChangeRuleOverridden = "ChangeRuleOverridden";

    /// <summary>The customer finished the wizard; the offer needs an operator's approval before activation.</summary>
    public const string AwaitingApproval = "AwaitingApproval";

    /// <summary>An operator approved; Activated follows.</summary>
    public const string ApprovalGranted = "ApprovalGranted";

    /// <summary>An operator rejected (detail = reason); Unsubscribed follows when the marketplace confirms.</summary>
    public const string ApprovalRejected = "ApprovalRejected";
}

/// <summary>
/// Told of every history event inside the transaction that writes it, so what an event owes (a notification) is
/// committed together with the event.
/// </summary>
public interface ISubscriptionEventFollower
{
    Task FollowAsync(SubscriptionEvent recorded, DbConnection connection, DbTransaction? tx, CancellationToken ct);
}

/// <summary>Who caused a change.</summary>
public static class EventSources
{
    public const string Customer = "customer";
    public const string Operator = "operator";
    public const string Marketplace = "marketplace";
    public const string Reconciliation = "reconciliation";
    public const string System = "system";
}
