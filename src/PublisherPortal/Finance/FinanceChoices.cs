using System.Reflection;
using PublisherPortal.Data;

namespace PublisherPortal.Finance;

/// <summary>The values the finance filters offer, read from the constants the rest of the portal writes.</summary>
public static class FinanceChoices
{
    public static IReadOnlyList<string> Kinds { get; } = ConstantsOf(typeof(EventKinds));

    public static IReadOnlyList<string> Sources { get; } = ConstantsOf(typeof(EventSources));

    public static IReadOnlyList<string> Statuses { get; } =
        [nameof(Marketplace.Models.SubscriptionStatus.PendingFulfillmentStart), nameof(Marketplace.Models.SubscriptionStatus.Subscribed),
         nameof(Marketplace.Models.SubscriptionStatus.Suspended), nameof(Marketplace.Models.SubscriptionStatus.Unsubscribed)];

    /// <summary>How the pages write a time: always UTC and said so, because finance compares it with Microsoft's UTC invoices.</summary>
    public static string Time(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    private static string[] ConstantsOf(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();
}
