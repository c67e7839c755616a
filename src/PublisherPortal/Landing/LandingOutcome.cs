using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Offers;

namespace PublisherPortal.Landing;

/// <summary>What the customer bought, as the landing page shows it.</summary>
public sealed record PurchaseView
{
    public required SubscriptionRecord Subscription { get; init; }

    /// <summary>The plan the subscription is on, from the marketplace's list (null when the list does not name it).</summary>
    public Plan? Plan { get; init; }

    /// <summary>The offer as customers read it (OfferNames); its id until an Admin names it.</summary>
    public string OfferName { get; init; } = "";

    public string PlanDisplayName => Plan is { DisplayName.Length: > 0 } p ? p.DisplayName : Subscription.PlanId;

    public bool IsPerSeat => Plan?.IsPricePerSeat ?? Subscription.Quantity is not null;

    /// <summary>The signed-in person's tenant is neither the beneficiary's: they must confirm before going on.</summary>
    public bool TenantMismatch { get; init; }

    public bool TenantMismatchConfirmed { get; init; }

    /// <summary>The offer's settings: whether an operator approves the activation, and the custom fields to ask.</summary>
    public OfferPolicy Policy { get; init; } = OfferPolicy.DefaultFor("");

    /// <summary>The operator's approval of this activation, once the customer asked for it.</summary>
    public ActivationApproval? Approval { get; init; }

    public WizardStep Step => (WizardStep)Subscription.WizardStep;

    public AccountSetup? SavedSetup => Subscription.ConfiguredAt is null
        ? null
        : new AccountSetup
        {
            OrganisationName = Subscription.AccountOrganisation ?? "",
            AdminName = Subscription.AccountAdminName ?? "",
            AdminEmail = Subscription.AccountAdminEmail ?? "",
            DataRegion = AccountSetup.RegionFrom(Subscription.AccountSettings) ?? DataRegions.Default,
            Answers = new Dictionary<string, string?>(AccountSetup.AnswersFrom(Subscription.AccountSettings), StringComparer.Ordinal),
        };
}

/// <summary>Every way opening the landing page can end. The page draws one screen per case.</summary>
public abstract record LandingOutcome
{
    /// <summary>The address has no token: the customer did not come from the marketplace.</summary>
    public sealed record NoToken : LandingOutcome;

    /// <summary>The marketplace rejected the token (invalid, expired, or another publisher's).</summary>
    public sealed record InvalidToken(string Explanation, string? RequestId) : LandingOutcome;

    /// <summary>The marketplace could not answer now; opening the same address again will do.</summary>
    public sealed record Unavailable(string Explanation) : LandingOutcome;

    /// <summary>A purchase waiting for activation: the wizard.</summary>
    public sealed record ReadyToActivate(PurchaseView Purchase) : LandingOutcome;

    public sealed record AlreadyActive(PurchaseView Purchase) : LandingOutcome;

    /// <summary>Suspended for a payment problem: nothing to activate until the marketplace reinstates it.</summary>
    public sealed record Suspended(PurchaseView Purchase) : LandingOutcome;

    public sealed record Ended(PurchaseView Purchase) : LandingOutcome;

    /// <summary>The customer finished the wizard; the offer needs an operator's approval before it is activated.</summary>
    public sealed record AwaitingApproval(PurchaseView Purchase, ActivationApproval Approval) : LandingOutcome;

    /// <summary>An operator rejected the activation; the subscription is (being) cancelled in the marketplace.</summary>
    public sealed record Rejected(PurchaseView Purchase, ActivationApproval Approval) : LandingOutcome;
}

/// <summary>What came of pressing "Activate".</summary>
public abstract record ActivationOutcome
{
    public sealed record Activated(SubscriptionRecord Subscription) : ActivationOutcome;

    /// <summary>Another click or tab holds the activation; it will finish it.</summary>
    public sealed record AlreadyInProgress : ActivationOutcome;

    /// <summary>The marketplace received the activation but does not show it yet; checking again later will finish it.</summary>
    public sealed record AwaitingConfirmation : ActivationOutcome;

    /// <summary>Nothing changed; the customer can try again from the same screen.</summary>
    public sealed record Failed(string Explanation, bool CanRetry) : ActivationOutcome;

    public sealed record NotReady(string Explanation) : ActivationOutcome;

    /// <summary>The offer needs an operator's approval; the request is recorded and waits in the operators' queue.</summary>
    public sealed record AwaitingApproval(ActivationApproval Approval) : ActivationOutcome;

    /// <summary>An operator rejected the activation, for <see cref="ActivationApproval.Reason"/>.</summary>
    public sealed record Rejected(ActivationApproval Approval) : ActivationOutcome;
}
