using System.Globalization;

namespace PublisherPortal;

/// <summary>Counts in sentences people read: "1 subscription", "2 subscriptions", "1,200 seats".</summary>
public static class Words
{
    public static string Count(long n, string singular, string? plural = null) =>
        n == 1 ? $"1 {singular}" : $"{n.ToString("N0", CultureInfo.InvariantCulture)} {plural ?? singular + "s"}";
}
