using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Subscriptions;

/// <summary>
/// The marketplace's status codes and our history event kinds in words people read. Operators and customers see these;
/// the codes stay in the database, the CSV export and the finance filters, where they are the record.
/// </summary>
public static class StatusWords
{
    public static string Of(SubscriptionStatus status) => status switch
    {
        SubscriptionStatus.PendingFulfillmentStart or SubscriptionStatus.NotStarted => "Waiting for activation",
        SubscriptionStatus.Subscribed => "Active",
        SubscriptionStatus.Suspended => "Suspended",
        SubscriptionStatus.Unsubscribed => "Cancelled",
        _ => "Unknown",
    };

    /// <summary>A status kept as text (history rows); an unknown one is shown as given rather than hidden.</summary>
    public static string Of(string? status) =>
        status is null ? "—"
        : Enum.TryParse<SubscriptionStatus>(status, ignoreCase: true, out var known) && known != SubscriptionStatus.Unknown ? Of(known)
        : status;

    public static string Event(string kind) => kind switch
    {
        EventKinds.Resolved => "Purchase opened",
        EventKinds.Configured => "Account set up",
        EventKinds.Activated => "Activated",
        EventKinds.PlanChanged => "Plan changed",
        EventKinds.QuantityChanged => "Seats changed",
        EventKinds.Suspended => "Suspended",
        EventKinds.Reinstated => "Reinstated",
        EventKinds.Unsubscribed => "Cancelled",
        EventKinds.Renewed => "Renewed",
        EventKinds.StatusCorrected => "Corrected by reconciliation",
        EventKinds.ChangeRefused => "Change refused",
        EventKinds.TenantMismatchConfirmed => "Other organisation confirmed",
        EventKinds.StaleDeliveryIgnored => "Out-of-date notice ignored",
        EventKinds.AwaitingApproval => "Submitted for approval",
        EventKinds.ApprovalGranted => "Approved",
        EventKinds.ApprovalRejected => "Rejected",
        _ => kind,
    };
}
