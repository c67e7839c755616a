using PublisherPortal.Data;

namespace PublisherPortal.Notifications;

/// <summary>Who a notification is written for.</summary>
public enum Audience
{
    /// <summary>The beneficiary, and the purchaser when another person bought it (a CSP reseller, a colleague in purchasing).</summary>
    Customer,

    /// <summary>The configured operator address list.</summary>
    Operators,
}

/// <summary>
/// One kind of mail: the history event that causes it, who reads it, and its built-in wording. Templates and per-offer
/// switches are keyed by <see cref="Name"/>, not by the event kind, because one event can owe two different mails
/// (AwaitingApproval tells the customer "we are checking" and asks operators to approve).
/// </summary>
public sealed record Notification(string Name, string EventKind, Audience Audience, string Label, string DefaultSubject, string DefaultBody)
{
    /// <summary>
    /// The status the subscription must have now for this mail to be true. A late delivery written into the history at
    /// its past place (SubscriptionStore.RecordLateStatusChangeAsync: a Suspend that arrived after its Reinstate)
    /// describes the past; telling the customer "suspended" while access is back would be wrong.
    /// </summary>
    public string? OnlyWhileStatus { get; init; }

    /// <summary>
    /// A notification that, once queued for a subscription, already said what this one would say. The rejection mail tells
    /// the customer the subscription "will be cancelled"; the Cancelled mail when the marketplace confirms that would be
    /// a second mail about the same decision.
    /// </summary>
    public string? AlreadyToldBy { get; init; }
}

/// <summary>A per-offer switch that widens who one notification goes to; stored with the notification switches.</summary>
public sealed record RecipientOption(string Name, string Label, Notification Notification, bool OnByDefault);

public static class NotificationCatalog
{
    /// <summary>Not a history event: an acknowledgement to the marketplace that ended Failed (Webhooks/AcknowledgementSender).</summary>
    public const string AcknowledgementFailedEvent = "AcknowledgementFailed";

    private const string CustomerFooter = """


        Your subscriptions: {SubscriptionUrl}
        Subscription id: {SubscriptionId}
        """;

    private const string OperatorFooter = """


        Console: {SubscriptionUrl}
        """;

    /// <summary>
    /// The welcome mail. It goes to the administrator entered in the wizard (and the beneficiary when the offer's
    /// <see cref="WelcomeCopiesBeneficiary"/> switch is on) and always carries the sign-in link: the wizard's success page
    /// promises both.
    /// </summary>
    public static readonly Notification ActivationDone = Customer("ActivationDone", EventKinds.Activated, "Activation done (welcome)",
        "{SubscriptionName} is active",
        "Welcome! Your subscription {SubscriptionName} ({OfferName}, plan {PlanName}, {Seats}) is active. You can start using it now.\n\nSign in: {SignInUrl}");

    /// <summary>
    /// A per-offer switch (off unless an Admin turns it on): the welcome mail also goes to the marketplace's beneficiary,
    /// for offers where the person who bought is not the one who administers the account but should hear of it.
    /// </summary>
    public static readonly RecipientOption WelcomeCopiesBeneficiary = new(
        "ActivationDone.Beneficiary", "Welcome mail also to the beneficiary", ActivationDone, OnByDefault: false);

    public static IReadOnlyList<RecipientOption> RecipientOptions { get; } = [WelcomeCopiesBeneficiary];

    public static readonly Notification AwaitingApproval = Customer("AwaitingApproval", EventKinds.AwaitingApproval, "Awaiting approval",
        "We are reviewing {SubscriptionName}",
        "Thank you for setting up {SubscriptionName}. Our team reviews new subscriptions of {OfferName} before activation; we will write again when it is done.");

    public static readonly Notification ApprovalGranted = Customer("ApprovalGranted", EventKinds.ApprovalGranted, "Approved",
        "{SubscriptionName} was approved",
        "Your subscription {SubscriptionName} was approved and is being activated.");

    public static readonly Notification ApprovalRejected = Customer("ApprovalRejected", EventKinds.ApprovalRejected, "Rejected",
        "{SubscriptionName} could not be approved",
        "We could not approve your subscription {SubscriptionName}: {Reason}\nIt will be cancelled in the marketplace, and you will not be charged for it.");

    public static readonly Notification PlanChanged = Customer("PlanChanged", EventKinds.PlanChanged, "Plan changed",
        "{SubscriptionName} is now on plan {PlanName}",
        "The plan of {SubscriptionName} changed from {PreviousPlanName} to {PlanName} ({Seats}).");

    public static readonly Notification SeatsChanged = Customer("SeatsChanged", EventKinds.QuantityChanged, "Seats changed",
        "{SubscriptionName} now has {Seats}",
        "The seats of {SubscriptionName} changed from {PreviousSeats} to {Seats}.");

    public static readonly Notification Suspended = Customer("Suspended", EventKinds.Suspended, "Suspended",
        "{SubscriptionName} is suspended",
        "Access to {SubscriptionName} is suspended, usually because a payment did not go through. Check your billing in the Azure portal or the Microsoft 365 admin center; access returns as soon as it is settled.")
        with { OnlyWhileStatus = nameof(Marketplace.Models.SubscriptionStatus.Suspended) };

    public static readonly Notification Reinstated = Customer("Reinstated", EventKinds.Reinstated, "Reinstated",
        "{SubscriptionName} is available again",
        "Access to {SubscriptionName} is back.")
        with { OnlyWhileStatus = nameof(Marketplace.Models.SubscriptionStatus.Subscribed) };

    public static readonly Notification Cancelled = Customer("Cancelled", EventKinds.Unsubscribed, "Cancelled",
        "{SubscriptionName} is cancelled",
        "Your subscription {SubscriptionName} is cancelled and access has ended.")
        with { OnlyWhileStatus = nameof(Marketplace.Models.SubscriptionStatus.Unsubscribed), AlreadyToldBy = ApprovalRejected.Name };

    public static readonly Notification NewPurchase = Operator("NewPurchase", EventKinds.Resolved, "New purchase",
        "New purchase: {SubscriptionName} ({OfferId}/{PlanId})",
        "{CustomerEmail} bought {OfferId}, plan {PlanId}, {Seats}. The customer is now in the activation wizard.");

    public static readonly Notification ApprovalNeeded = Operator("ApprovalNeeded", EventKinds.AwaitingApproval, "Approval needed",
        "Approval needed: {SubscriptionName}",
        "{CustomerEmail} finished setting up {SubscriptionName} ({OfferId}, plan {PlanId}). It waits for your approval in the console.");

    public static readonly Notification ChangeRefused = Operator("ChangeRefused", EventKinds.ChangeRefused, "Change refused",
        "Change refused: {SubscriptionName}",
        "A change of {SubscriptionName} ({OfferId}, plan {PlanId}, {Seats}) was refused: {Reason}");

    public static readonly Notification AcknowledgementFailed = Operator("AcknowledgementFailed", AcknowledgementFailedEvent, "Acknowledgement failed",
        "Marketplace acknowledgement failed: {SubscriptionName}",
        "An answer we owed the marketplace for {SubscriptionName} could not be delivered: {Reason}\nRetry it on the Operations page of the console.");

    public static IReadOnlyList<Notification> All { get; } =
    [
        ActivationDone, AwaitingApproval, ApprovalGranted, ApprovalRejected, PlanChanged, SeatsChanged, Suspended, Reinstated, Cancelled,
        NewPurchase, ApprovalNeeded, ChangeRefused, AcknowledgementFailed,
    ];

    private static readonly ILookup<string, Notification> ByEventKind = All.ToLookup(n => n.EventKind, StringComparer.Ordinal);

    /// <summary>The mails an event owes; empty for events nobody is told about (Configured, Renewed, StaleDeliveryIgnored…).</summary>
    public static IEnumerable<Notification> For(string eventKind) => ByEventKind[eventKind];

    public static Notification? Find(string name) => All.FirstOrDefault(n => n.Name == name);

    private static Notification Customer(string name, string kind, string label, string subject, string body) =>
        new(name, kind, Audience.Customer, label, subject, body + CustomerFooter);

    private static Notification Operator(string name, string kind, string label, string subject, string body) =>
        new(name, kind, Audience.Operators, label, subject, body + OperatorFooter);
}
