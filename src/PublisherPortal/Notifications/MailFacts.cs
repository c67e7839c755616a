using System.Globalization;
using PublisherPortal.Data;

namespace PublisherPortal.Notifications;

/// <summary>What a subscription looks like to a mail: the columns a template can name.</summary>
public sealed record MailSubscription
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string OfferId { get; init; } = "";
    public string PlanId { get; init; } = "";
    public int? Quantity { get; init; }
    public string Status { get; init; } = "";
    public string? BeneficiaryEmail { get; init; }
    public string? PurchaserEmail { get; init; }

    /// <summary>The offer's display name (Offers/OfferNames), null while an Admin has not named it.</summary>
    public string? OfferName { get; init; }

    /// <summary>Display names of the offer's plans, by plan id, for "plan Team" rather than "plan team".</summary>
    public IReadOnlyDictionary<string, string> PlanNames { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The administrator the customer named in the wizard: who the product's account belongs to.</summary>
    public string? AccountAdminEmail { get; init; }

    /// <summary>The customer's side of a mail: the beneficiary, and the purchaser when someone else bought it (CSP, purchasing).</summary>
    public IReadOnlyList<string> CustomerRecipients() =>
        [.. new[] { BeneficiaryEmail, PurchaserEmail }
            .Where(a => !string.IsNullOrWhiteSpace(a))
            .Select(a => a!.Trim())
            .Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>
    /// Who the welcome mail goes to: the administrator the customer entered in the wizard (the success page promises
    /// exactly that), and the beneficiary too when the offer's settings ask for it. A subscription activated without
    /// the wizard's answers (an older record) falls back to the customer's side.
    /// </summary>
    public IReadOnlyList<string> WelcomeRecipients(bool copyBeneficiary)
    {
        if (string.IsNullOrWhiteSpace(AccountAdminEmail))
        {
            return CustomerRecipients();
        }

        return [.. new[] { AccountAdminEmail, copyBeneficiary ? BeneficiaryEmail : null }
            .Where(a => !string.IsNullOrWhiteSpace(a))
            .Select(a => a!.Trim())
            .Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>What the preview shows when no real subscription is picked: a reseller purchase, so both addresses appear.</summary>
    public static MailSubscription Sample { get; } = new()
    {
        Id = Guid.Parse("0f0e0d0c-0b0a-4908-8706-050403020100"),
        Name = "Fabrikam analytics",
        OfferId = "insights-saas",
        PlanId = "team",
        Quantity = 12,
        Status = "Subscribed",
        BeneficiaryEmail = "bob@fabrikam.example",
        PurchaserEmail = "carla@csp-reseller.example",
        AccountAdminEmail = "it@fabrikam.example",
    };
}

/// <summary>The placeholder values of one mail: the subscription as it is now, and the event that caused the mail.</summary>
public static class MailFacts
{
    public static IReadOnlyDictionary<string, string?> Of(
        MailSubscription subscription, SubscriptionEvent? cause, string? reason, Audience audience, Uri portal, DateTimeOffset at) =>
        new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["SubscriptionName"] = subscription.Name,
            ["SubscriptionId"] = subscription.Id.ToString(),
            ["OfferId"] = subscription.OfferId,
            ["OfferName"] = subscription.OfferName ?? subscription.OfferId,
            ["PlanName"] = PlanName(subscription, cause?.ToPlan ?? subscription.PlanId),
            ["PreviousPlanName"] = PlanName(subscription, cause?.FromPlan ?? subscription.PlanId),
            ["Seats"] = Seats(cause?.ToQuantity ?? subscription.Quantity),
            ["PreviousSeats"] = Seats(cause?.FromQuantity ?? subscription.Quantity),
            ["PlanId"] = cause?.ToPlan ?? subscription.PlanId,
            ["PreviousPlanId"] = cause?.FromPlan ?? subscription.PlanId,
            ["Quantity"] = Number(cause?.ToQuantity ?? subscription.Quantity),
            ["PreviousQuantity"] = Number(cause?.FromQuantity ?? subscription.Quantity),
            ["Status"] = cause?.ToStatus ?? subscription.Status,
            ["CustomerEmail"] = subscription.BeneficiaryEmail,
            ["PurchaserEmail"] = subscription.PurchaserEmail ?? subscription.BeneficiaryEmail,
            ["Reason"] = reason ?? cause?.Detail ?? "",
            ["EventTime"] = (cause?.OccurredAt ?? at).UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["PortalUrl"] = portal.ToString(),
            ["SignInUrl"] = SignInUrl(portal).ToString(),
            ["SubscriptionUrl"] = new Uri(portal, audience == Audience.Customer ? "my/subscriptions" : $"console/subscriptions/{subscription.Id}").ToString(),
        };

    /// <summary>Our sign-in endpoint (Identity/IdentityExtensions), coming back to the customer's subscriptions.</summary>
    public static Uri SignInUrl(Uri portal) => new(portal, "account/signin?returnUrl=%2Fmy%2Fsubscriptions");

    private static string PlanName(MailSubscription subscription, string planId) => subscription.PlanNames.GetValueOrDefault(planId) ?? planId;

    /// <summary>"1 seat", "5 seats", or "flat rate" for a plan without a seat count (never "1 seats" or " seats").</summary>
    private static string Seats(int? value) => value switch
    {
        null => "flat rate",
        1 => "1 seat",
        { } n => $"{n.ToString(CultureInfo.InvariantCulture)} seats",
    };

    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";
}
