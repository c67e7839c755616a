using System.Globalization;

namespace PublisherPortal.Revenue;

/// <summary>Whether a figure was valued at the marketplace's list price or at a price an Admin recorded (private offers).</summary>
public enum PriceSource
{
    List,
    Recorded,
}

/// <summary>One version of a plan's recurring price in one currency and billing term (plan_prices).</summary>
public sealed record ListPrice(
    string OfferId, string PlanId, string Currency, string TermUnit, decimal Price, bool IsPerSeat, DateTimeOffset ValidFrom, DateTimeOffset? ValidTo);

/// <summary>One version of a metered dimension's price: unit price and the quantity a month of the term includes.</summary>
public sealed record DimensionPrice(
    string OfferId, string PlanId, string Dimension, string Currency, string TermUnit, decimal UnitPrice, decimal IncludedPerMonth,
    DateTimeOffset ValidFrom, DateTimeOffset? ValidTo);

/// <summary>What an Admin recorded for a subscription: its billing currency, and a negotiated price when one was agreed.</summary>
public sealed record RecordedPrice(
    long Id, Guid SubscriptionId, string Currency, string? TermUnit, decimal? Price, bool IsPerSeat, DateTimeOffset ValidFrom);

/// <summary>A subscription's recurring revenue at one instant: per month, in its billing currency, and where the price came from.</summary>
public sealed record Valuation(string Currency, string TermUnit, decimal Mrr, PriceSource Source);

/// <summary>
/// The prices in force at any instant. A version applies from its valid_from until the next version of the same term;
/// an instant before the first version we saw is valued at that first version, since the portal only learns prices
/// when it first lists the plans (docs/architecture.md#revenue).
/// </summary>
public sealed class PriceBook
{
    private readonly Dictionary<(string Offer, string Plan, string Currency, string Term), ListPrice[]> _list;
    private readonly Dictionary<(string Offer, string Plan, string Dimension, string Currency), DimensionPrice[]> _dimensions;
    private readonly Dictionary<Guid, RecordedPrice[]> _recorded;

    public PriceBook(IEnumerable<ListPrice> list, IEnumerable<RecordedPrice> recorded, IEnumerable<DimensionPrice> dimensions, string defaultCurrency)
    {
        DefaultCurrency = defaultCurrency;
        _list = list.GroupBy(p => (p.OfferId, p.PlanId, p.Currency, p.TermUnit))
            .ToDictionary(g => g.Key, g => g.OrderBy(p => p.ValidFrom).ToArray());
        _dimensions = dimensions.GroupBy(p => (p.OfferId, p.PlanId, p.Dimension, p.Currency))
            .ToDictionary(g => g.Key, g => g.OrderBy(p => p.ValidFrom).ToArray());
        _recorded = recorded.GroupBy(p => p.SubscriptionId)
            .ToDictionary(g => g.Key, g => g.OrderBy(p => p.ValidFrom).ThenBy(p => p.Id).ToArray());
        _changes = _list.Values.SelectMany(v => v.Skip(1).Select(p => p.ValidFrom))
            .Concat(_recorded.Values.SelectMany(v => v.Select(r => r.ValidFrom)))
            .Distinct().Order().ToArray();
    }

    private readonly DateTimeOffset[] _changes;

    /// <summary>
    /// Whether any price may differ between the two instants (a new list price version or a recorded price starts in
    /// (after, upTo]). When none does, a subscription whose state did not change keeps its valuation: the calculator
    /// then values each subscription once per change instead of once per month.
    /// </summary>
    public bool MayChangeBetween(DateTimeOffset after, DateTimeOffset upTo)
    {
        var i = Array.BinarySearch(_changes, after);
        i = i < 0 ? ~i : i + 1; // first change strictly after 'after'
        return i < _changes.Length && _changes[i] <= upTo;
    }

    /// <summary>The currency a subscription without a recorded currency is billed in (Revenue:DefaultCurrency).</summary>
    public string DefaultCurrency { get; }

    /// <summary>
    /// The monthly recurring revenue of a Subscribed subscription on <paramref name="planId"/> with <paramref name="quantity"/>
    /// seats at <paramref name="at"/>, rounded to the cent; null when no price is known for its currency and term.
    /// </summary>
    public Valuation? Value(Guid subscriptionId, string offerId, string planId, int? quantity, string? termUnit, DateTimeOffset at)
    {
        var recorded = Latest(_recorded.GetValueOrDefault(subscriptionId), at, r => r.ValidFrom);
        var currency = recorded?.Currency ?? DefaultCurrency;
        var term = recorded?.TermUnit ?? termUnit ?? "P1M";
        if (TermMonths(term) is not { } months)
        {
            return null;
        }

        if (recorded?.Price is { } negotiated)
        {
            return new Valuation(currency, term, PerMonth(negotiated, recorded.IsPerSeat, quantity, months), PriceSource.Recorded);
        }

        var list = VersionAt(_list.GetValueOrDefault((offerId, planId, currency, term)), at);
        return list is null ? null : new Valuation(currency, term, PerMonth(list.Price, list.IsPerSeat, quantity, months), PriceSource.List);
    }

    /// <summary>The price of a metered dimension in force at <paramref name="at"/>, or null when the plan lists none in that currency.</summary>
    public DimensionPrice? Dimension(string offerId, string planId, string dimension, string currency, DateTimeOffset at) =>
        VersionAt(_dimensions.GetValueOrDefault((offerId, planId, dimension, currency)), at);

    /// <summary>The currency a subscription is billed in at <paramref name="at"/>.</summary>
    public string CurrencyOf(Guid subscriptionId, DateTimeOffset at) =>
        Latest(_recorded.GetValueOrDefault(subscriptionId), at, r => r.ValidFrom)?.Currency ?? DefaultCurrency;

    /// <summary>Months in an ISO-8601 billing term (P1M, P1Y, P2Y, P3Y, P6M…); null for one we cannot read.</summary>
    public static int? TermMonths(string? termUnit)
    {
        if (termUnit is not { Length: >= 3 } t || t[0] != 'P'
            || !int.TryParse(t.AsSpan(1, t.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return null;
        }

        return t[^1] switch
        {
            'M' => n,
            'Y' => n * 12,
            _ => null,
        };
    }

    /// <summary>
    /// A term's price per month, rounded to the cent once per subscription: totals add rounded figures, so every total
    /// and every movement is a sum of the same cents and the movement identity holds exactly.
    /// </summary>
    private static decimal PerMonth(decimal termPrice, bool perSeat, int? quantity, int months) =>
        decimal.Round(termPrice * (perSeat ? Math.Max(quantity ?? 1, 0) : 1) / months, 2, MidpointRounding.AwayFromZero);

    private static T? VersionAt<T>(T[]? versions, DateTimeOffset at) where T : class
    {
        if (versions is null || versions.Length == 0)
        {
            return null;
        }

        var found = Latest(versions, at, v => v switch
        {
            ListPrice l => l.ValidFrom,
            DimensionPrice d => d.ValidFrom,
            _ => DateTimeOffset.MinValue,
        });
        return found ?? versions[0];
    }

    private static T? Latest<T>(T[]? ordered, DateTimeOffset at, Func<T, DateTimeOffset> from) where T : class
    {
        if (ordered is null)
        {
            return null;
        }

        T? found = null;
        foreach (var v in ordered)
        {
            if (from(v) > at)
            {
                break;
            }

            found = v;
        }

        return found;
    }
}
