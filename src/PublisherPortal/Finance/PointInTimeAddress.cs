using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace PublisherPortal.Finance;

/// <summary>
/// The point-in-time view's address: "asof" is a UTC day (the state at its last instant; absent means now), plus the
/// history's offer, plan, subscription and customer filters and a status. Page and export read the same address.
/// </summary>
public static class PointInTimeAddress
{
    public static PointInTimeRequest Read(IEnumerable<KeyValuePair<string, StringValues>> query, DateTimeOffset now)
    {
        var pairs = query.ToList();
        var filter = FinanceFilter.FromQuery(pairs);
        var asOfText = pairs.FirstOrDefault(p => string.Equals(p.Key, "asof", StringComparison.OrdinalIgnoreCase)).Value.ToString();
        var statusText = pairs.FirstOrDefault(p => string.Equals(p.Key, "status", StringComparison.OrdinalIgnoreCase)).Value.ToString();
        var asOf = DateOnly.TryParseExact(asOfText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? PointInTimeRequest.EndOf(day)
            : now;

        return new PointInTimeRequest(asOf < now ? asOf : now)
        {
            OfferId = filter.OfferId,
            PlanId = filter.PlanId,
            Status = string.IsNullOrWhiteSpace(statusText) ? null : statusText.Trim(),
            SubscriptionId = filter.SubscriptionId,
            Customer = filter.Customer,
        };
    }

    public static PointInTimeRequest Read(string? queryString, DateTimeOffset now) => Read(QueryHelpers.ParseQuery(queryString), now);

    /// <summary>The address of a request; a request for now leaves "asof" out so the link stays "now" when opened later.</summary>
    public static string ToQueryString(PointInTimeRequest request, bool isNow = false)
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                pairs.Add(new(key, value));
            }
        }

        if (!isNow)
        {
            Add("asof", DateOnly.FromDateTime(request.AsOf.UtcDateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }

        Add("offer", request.OfferId);
        Add("plan", request.PlanId);
        Add("status", request.Status);
        Add("subscription", request.SubscriptionId?.ToString("D"));
        Add("customer", request.Customer);
        return QueryHelpers.AddQueryString("", pairs).TrimStart('?');
    }
}
