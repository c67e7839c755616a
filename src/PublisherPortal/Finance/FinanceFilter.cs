using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace PublisherPortal.Finance;

/// <summary>
/// What finance narrows the history to. The same filter travels in the page's address and in the export link,
/// so a spreadsheet always holds exactly the rows the screen showed. Dates are whole UTC days, both ends included.
/// </summary>
public sealed record FinanceFilter
{
    public DateOnly? From { get; init; }
    public DateOnly? To { get; init; }
    public string? OfferId { get; init; }

    /// <summary>Matches a change away from this plan as well as one onto it.</summary>
    public string? PlanId { get; init; }

    public string? Kind { get; init; }
    public string? Source { get; init; }
    public Guid? SubscriptionId { get; init; }

    /// <summary>A beneficiary or purchaser e-mail address, or a tenant id; compared without regard to case.</summary>
    public string? Customer { get; init; }

    public static FinanceFilter None { get; } = new();

    /// <summary>First instant inside the range, or null when open.</summary>
    public DateTimeOffset? FromInstant => From is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    /// <summary>First instant after the range (the last day counts whole), or null when open.</summary>
    public DateTimeOffset? ToInstantExclusive => To is { } d ? new DateTimeOffset(d.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    public bool IsEmpty => this == None;

    /// <summary>Reads the filter from a query string; unreadable values are ignored rather than failing the page.</summary>
    public static FinanceFilter FromQuery(IEnumerable<KeyValuePair<string, StringValues>> query)
    {
        var values = query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        string? Text(string key) => values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        DateOnly? Date(string key) =>
            DateOnly.TryParseExact(Text(key), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

        return new FinanceFilter
        {
            From = Date("from"),
            To = Date("to"),
            OfferId = Text("offer"),
            PlanId = Text("plan"),
            Kind = Text("kind"),
            Source = Text("source"),
            SubscriptionId = Guid.TryParse(Text("subscription"), out var id) ? id : null,
            Customer = Text("customer"),
        };
    }

    public static FinanceFilter FromQueryString(string? queryString) =>
        FromQuery(QueryHelpers.ParseQuery(queryString));

    /// <summary>The filter as query parameters, without the leading '?'; empty when nothing is filtered.</summary>
    public string ToQueryString()
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                pairs.Add(new(key, value));
            }
        }

        Add("from", From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("to", To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("offer", OfferId);
        Add("plan", PlanId);
        Add("kind", Kind);
        Add("source", Source);
        Add("subscription", SubscriptionId?.ToString("D"));
        Add("customer", Customer);
        return QueryHelpers.AddQueryString("", pairs).TrimStart('?');
    }

    /// <summary>Appends this filter to a path, keeping any parameters the path already has.</summary>
    public string AppendTo(string path)
    {
        var query = ToQueryString();
        if (query.Length == 0)
        {
            return path;
        }

        return path + (path.Contains('?') ? "&" : "?") + query;
    }
}
