using System.Globalization;
using MudBlazor;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;

namespace PublisherPortal.Console;

/// <summary>The sentence an operator reads after an action, and how loud it is.</summary>
public static class ConsoleActionText
{
    public static (Severity Severity, string Text) Describe(ConsoleActionResult result) => result switch
    {
        ConsoleActionResult.Denied => (Severity.Error, "Only operators can do this. Nothing was changed."),
        ConsoleActionResult.Done done => (Severity.Success, done.Message),
        ConsoleActionResult.Failed failed => (Severity.Warning, failed.Message),
        ConsoleActionResult.ChangeRequested { Result: var change } => Describe(change),
        _ => (Severity.Info, "Done."),
    };

    public static (Severity Severity, string Text) Describe(ChangeRequestResult change) => change switch
    {
        ChangeRequestResult.Started started => (Severity.Info,
            $"The marketplace accepted the request ({DescribeAction(started.Operation)}). Following it until it finishes."),
        ChangeRequestResult.AlreadyPending { Pending: { } pending } => (Severity.Warning, AlreadyPending(pending)),
        ChangeRequestResult.AlreadyPending => (Severity.Warning,
            "Another change of this subscription is still in progress in the marketplace. Wait for it to finish, then try again."),
        ChangeRequestResult.NotAllowed notAllowed => (Severity.Warning, notAllowed.Reason),
        ChangeRequestResult.Refused refused => (Severity.Error,
            $"The marketplace refused the change: {refused.Reason} (request id {refused.RequestId})."),
        ChangeRequestResult.Unavailable unavailable => (Severity.Error, unavailable.Reason),
        _ => (Severity.Info, "Done."),
    };

    /// <summary>"olivia@… asked for 10 seats at 18:02:11 UTC; that change is still in progress…"</summary>
    public static string AlreadyPending(OperationRecord pending) =>
        $"{pending.RequestedBy} asked for {DescribeAction(pending)} at {Time(pending.RequestedAt)}; that change is still in progress " +
        "in the marketplace, so yours was not sent. Wait for it to finish, then decide again.";

    public static string DescribeAction(OperationRecord operation) => operation.Action switch
    {
        "ChangePlan" => $"plan {operation.RequestedPlanId}",
        "ChangeQuantity" => $"{operation.RequestedQuantity} seats",
        "Unsubscribe" => "a cancellation",
        var other => other,
    };

    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? at) => at is { } value ? Time(value) : "—";

    public static Color StatusColor(Marketplace.Models.SubscriptionStatus status) => status switch
    {
        Marketplace.Models.SubscriptionStatus.Subscribed => Color.Success,
        Marketplace.Models.SubscriptionStatus.Suspended => Color.Warning,
        Marketplace.Models.SubscriptionStatus.Unsubscribed => Color.Default,
        Marketplace.Models.SubscriptionStatus.PendingFulfillmentStart => Color.Info,
        _ => Color.Secondary,
    };

    public static Color OperationColor(string status) => status switch
    {
        OperationStates.Succeeded => Color.Success,
        OperationStates.InProgress => Color.Info,
        OperationStates.Failed or OperationStates.TimedOut => Color.Error,
        OperationStates.Conflict => Color.Warning,
        _ => Color.Default,
    };
}
