using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace PublisherPortal.Revenue;

/// <summary>
/// What the revenue page and its exports were asked for, read from and written to a query string, so a figure's link,
/// a bookmark and an export all name the same report. Anything unreadable falls back to its default rather than failing.
/// </summary>
public sealed record RevenueAddress(DateOnly FirstMonth, DateOnly LastMonth, RevenueFilter Filter, DateTimeOffset At)
{
    public static RevenueAddress Read(IEnumerable<KeyValuePair<string, StringValues>> query, DateTimeOffset now)
    {
        var values = query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        string? Text(string key) => values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        var thisMonth = new DateOnly(now.UtcDateTime.Year, now.UtcDateTime.Month, 1);
        var last = Month(Text("to")) ?? thisMonth;
        var first = Month(Text("from")) ?? last.AddMonths(-11);
        var at = DateTimeOffset.TryParse(Text("at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var a)
            ? a : now;
        return new RevenueAddress(first, last, new RevenueFilter(Text("offer"), Text("plan"), Text("currency")?.ToUpperInvariant()), at);
    }

    public static RevenueAddress Read(string? queryString, DateTimeOffset now) => Read(QueryHelpers.ParseQuery(queryString), now);

    public string ToQueryString()
    {
        var pairs = new List<KeyValuePair<string, string?>>
        {
            new("from", Label(FirstMonth)),
            new("to", Label(LastMonth)),
        };
        if (Filter.OfferId is not null) pairs.Add(new("offer", Filter.OfferId));
        if (Filter.PlanId is not null) pairs.Add(new("plan", Filter.PlanId));
        if (Filter.Currency is not null) pairs.Add(new("currency", Filter.Currency));
        return QueryHelpers.AddQueryString("", pairs).TrimStart('?');
    }

    public static string Label(DateOnly month) => RevenueCalculator.Label(month);

    private static DateOnly? Month(string? text) =>
        DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
}
