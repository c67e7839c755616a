using System.Globalization;
using System.Xml;
using Marketplace.Models;
using MudBlazor;

namespace PublisherPortal.Landing;

/// <summary>The marketplace's codes in words a customer reads without a glossary.</summary>
public static class Presentation
{
    public static string Status(SubscriptionStatus status) => Subscriptions.StatusWords.Of(status);

    public static Color StatusColor(SubscriptionStatus status) => status switch
    {
        SubscriptionStatus.Subscribed => Color.Success,
        SubscriptionStatus.PendingFulfillmentStart or SubscriptionStatus.NotStarted => Color.Info,
        SubscriptionStatus.Suspended => Color.Warning,
        SubscriptionStatus.Unsubscribed => Color.Default,
        _ => Color.Default,
    };

    /// <summary>An ISO-8601 duration such as P1M or P1Y as "1 month", "1 year"; anything else is shown as given.</summary>
    public static string Term(string? termUnit)
    {
        if (string.IsNullOrWhiteSpace(termUnit))
        {
            return "not stated";
        }

        var unit = termUnit.Trim().ToUpperInvariant();
        if (unit.Length >= 3 && unit[0] == 'P' && int.TryParse(unit[1..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            var word = unit[^1] switch { 'Y' => "year", 'M' => "month", 'W' => "week", 'D' => "day", _ => null };
            if (word is not null)
            {
                return n == 1 ? $"1 {word}" : $"{n} {word}s";
            }
        }

        try
        {
            // Anything XML's duration parser understands still reads better as days than as a code.
            return $"{XmlConvert.ToTimeSpan(unit).TotalDays:0} days";
        }
        catch (FormatException)
        {
            return termUnit;
        }
    }

    public static string Date(DateTimeOffset? value) =>
        value is { } v ? v.ToString("d MMMM yyyy", CultureInfo.InvariantCulture) : "set at activation";

    /// <summary>
    /// What happens at the end of the term, true for the status: only an active subscription renews. A cancelled one
    /// promising "Renews automatically" told customers they would be billed again.
    /// </summary>
    public static string Renewal(SubscriptionStatus status, bool autoRenew, DateTimeOffset? termEnd) => status switch
    {
        SubscriptionStatus.Unsubscribed => "Does not renew: the subscription is cancelled",
        SubscriptionStatus.PendingFulfillmentStart or SubscriptionStatus.NotStarted => "The term starts when you activate",
        SubscriptionStatus.Suspended => "On hold while suspended: it renews only once payment is settled",
        _ => Renewal(autoRenew, termEnd),
    };

    private static string Renewal(bool autoRenew, DateTimeOffset? termEnd) => (autoRenew, termEnd) switch
    {
        (true, { } end) => $"Renews automatically on {Date(end)}",
        (true, null) => "Renews automatically at the end of each term",
        (false, { } end) => $"Ends on {Date(end)} (automatic renewal is off)",
        (false, null) => "Ends at the end of the term (automatic renewal is off)",
    };

    public static string Seats(int? quantity, bool perSeat) =>
        perSeat && quantity is { } q ? (q == 1 ? "1 seat" : $"{q} seats") : "Flat rate (no seat count)";

    /// <summary>"a", "a and b", "a, b and c": people, in a sentence.</summary>
    public static string List(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => $"{string.Join(", ", items.Take(items.Count - 1))} and {items[^1]}",
    };

    /// <summary>"1 subscription", "3 subscriptions": a count with its noun in the right number.</summary>
    public static string Count(int n, string singular, string? plural = null) =>
        n == 1 ? $"1 {singular}" : $"{n.ToString(CultureInfo.InvariantCulture)} {plural ?? singular + "s"}";
}
