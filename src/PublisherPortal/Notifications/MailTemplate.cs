using System.Text.RegularExpressions;

namespace PublisherPortal.Notifications;

/// <summary>A placeholder an Admin may use in a template, with what it stands for (listed on the admin page).</summary>
public sealed record Placeholder(string Name, string Meaning);

/// <summary>
/// Fills {Name} placeholders. Unknown ones are reported (the admin page refuses to save them) and, should one reach a
/// mail anyway, left in the text as written: a visible "{Sinature}" is a typo someone fixes, a silently empty gap is not.
/// </summary>
public static partial class MailTemplate
{
    public static IReadOnlyList<Placeholder> Placeholders { get; } =
    [
        new("SubscriptionName", "the name the customer gave the subscription"),
        new("SubscriptionId", "the marketplace's subscription id"),
        new("OfferId", "the offer's id"),
        new("OfferName", "the offer's display name (its id until an Admin names it)"),
        new("PlanName", "the plan now, by its display name"),
        new("PreviousPlanName", "the plan before a plan change, by its display name"),
        new("Seats", "the seats now in words: \"1 seat\", \"5 seats\" or \"flat rate\""),
        new("PreviousSeats", "the seats before a change, in words"),
        new("PlanId", "the plan now"),
        new("PreviousPlanId", "the plan before a plan change"),
        new("Quantity", "the seats now (empty for flat plans)"),
        new("PreviousQuantity", "the seats before a seat change"),
        new("Status", "the subscription's status now"),
        new("CustomerEmail", "the beneficiary's e-mail"),
        new("PurchaserEmail", "the purchaser's e-mail (a CSP reseller for resold purchases)"),
        new("Reason", "why: the rejection reason, the refusing rule, the acknowledgement error"),
        new("EventTime", "when it happened (UTC)"),
        new("PortalUrl", "the portal's address"),
        new("SignInUrl", "the link that signs the reader in and opens their subscriptions"),
        new("SubscriptionUrl", "customers: their subscriptions page; operators: the console page of the subscription"),
    ];

    private static readonly HashSet<string> Known = Placeholders.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"\{([A-Za-z][A-Za-z0-9]*)\}")]
    private static partial Regex PlaceholderPattern();

    public static string Render(string template, IReadOnlyDictionary<string, string?> values) =>
        PlaceholderPattern().Replace(template, m => Known.Contains(m.Groups[1].Value) && values.TryGetValue(m.Groups[1].Value, out var value)
            ? value ?? ""
            : m.Value);

    /// <summary>Placeholders in <paramref name="template"/> that are not in <see cref="Placeholders"/> (typos, mostly), in order of appearance.</summary>
    public static IReadOnlyList<string> UnknownPlaceholders(string template) =>
        [.. PlaceholderPattern().Matches(template).Select(m => m.Groups[1].Value).Where(n => !Known.Contains(n)).Distinct(StringComparer.Ordinal)];
}
