using PublisherPortal.Revenue;

namespace PublisherPortal.Tests.Revenue;

/// <summary>
/// A small book whose every figure was computed by hand (the expected values in RevenueCalculatorTests). January to
/// April 2025, read on 20 April; USD is the default currency, D is billed in EUR and H in GBP.
/// </summary>
internal sealed class RevenueFixture
{
    public static readonly DateTimeOffset Now = At(2025, 4, 20);

    private long _eventId;

    public Dictionary<Guid, RevenueSubscription> Subscriptions { get; } = [];

    public List<StateChange> Changes { get; } = [];

    public List<ListPrice> ListPrices { get; } =
    [
        List("insights-saas", "team", "USD", "P1M", 12m, perSeat: true),
        List("insights-saas", "team", "USD", "P1Y", 120m, perSeat: true),
        List("insights-saas", "team", "USD", "P2Y", 230m, perSeat: true),
        List("insights-saas", "team", "EUR", "P1M", 11m, perSeat: true),
        List("insights-saas", "business", "USD", "P1M", 25m, perSeat: true),
        // Starter's list price rose on 1 March: February is valued at 49, March at 59.
        List("insights-saas", "starter", "USD", "P1M", 49m, perSeat: false) with { ValidTo = At(2025, 3, 1) },
        List("insights-saas", "starter", "USD", "P1M", 59m, perSeat: false) with { ValidFrom = At(2025, 3, 1) },
        List("backup-saas", "basic", "GBP", "P1M", 15m, perSeat: false),
        List("backup-saas", "pro", "GBP", "P1M", 7m, perSeat: true),
    ];

    public List<RecordedPrice> Recorded { get; } = [];

    public Guid A { get; }
    public Guid B { get; }
    public Guid C { get; }
    public Guid D { get; }
    public Guid E { get; }
    public Guid F { get; }
    public Guid G { get; }
    public Guid H { get; }
    public Guid I { get; }
    public Guid J { get; }
    public Guid K { get; }

    public RevenueFixture()
    {
        // A: team monthly, 5 seats from 10 Jan (60.00); 8 seats from 15 Feb (96.00); suspended 5–20 March (no movement).
        A = Add("A", "insights-saas");
        Change(A, At(2025, 1, 10), "Resolved", "PendingFulfillmentStart", "team", 5);
        Change(A, At(2025, 1, 10, 9), "Activated", "Subscribed", "team", 5);
        Change(A, At(2025, 2, 15, 12), "QuantityChanged", "Subscribed", "team", 8);
        Change(A, At(2025, 3, 5), "Suspended", "Suspended", "team", 8);
        Change(A, At(2025, 3, 20), "Reinstated", "Subscribed", "team", 8);

        // B: team yearly, 10 seats since December (120 × 10 ÷ 12 = 100.00); 7 seats from 10 March (70.00).
        B = Add("B", "insights-saas", "P1Y");
        Change(B, At(2024, 12, 1), "Activated", "Subscribed", "team", 10);
        Change(B, At(2025, 3, 10), "QuantityChanged", "Subscribed", "team", 7);

        // C: starter since November: 49.00, 59.00 from March's price; cancelled 2 April.
        C = Add("C", "insights-saas");
        Change(C, At(2024, 11, 1), "Activated", "Subscribed", "starter", null);
        Change(C, At(2025, 4, 2), "Unsubscribed", "Unsubscribed", "starter", null);

        // D: billed in EUR, team 3 seats from the first instant of February (33.00 EUR); suspended 25 March, reinstated 3 April.
        D = Add("D", "insights-saas");
        Recorded.Add(new RecordedPrice(1, D, "EUR", null, null, false, At(2025, 1, 1)));
        Change(D, At(2025, 2, 1), "Activated", "Subscribed", "team", 3);
        Change(D, At(2025, 3, 25), "Suspended", "Suspended", "team", 3);
        Change(D, At(2025, 4, 3), "Reinstated", "Subscribed", "team", 3);

        // E: a private offer at a negotiated 12,000 USD a year, flat (1,000.00 a month), from 10 February.
        E = Add("E", "insights-saas", "P1Y");
        Recorded.Add(new RecordedPrice(2, E, "USD", "P1Y", 12_000m, false, At(2025, 2, 1)));
        Change(E, At(2025, 2, 10), "Activated", "Subscribed", "enterprise", null);

        // F: a free trial, G: a test subscription — both Subscribed, both apart.
        F = Add("F", "insights-saas", trial: true);
        Change(F, At(2025, 1, 5), "Activated", "Subscribed", "team", 5);
        G = Add("G", "insights-saas", test: true);
        Change(G, At(2025, 1, 6), "Activated", "Subscribed", "starter", null);

        // H: backup basic in GBP from 20 January (15.00 GBP); pro with 4 seats from 10 March (28.00 GBP).
        H = Add("H", "backup-saas");
        Recorded.Add(new RecordedPrice(3, H, "GBP", null, null, false, At(2024, 1, 1)));
        Change(H, At(2025, 1, 20), "Activated", "Subscribed", "basic", null);
        Change(H, At(2025, 3, 10), "PlanChanged", "Subscribed", "pro", 4);

        // I: team on a two-year term, one seat, from the last tick of January: 230 ÷ 24 = 9.583… → 9.58.
        I = Add("I", "insights-saas", "P2Y");
        Change(I, At(2025, 1, 31, 23, 59).AddTicks(599_999_999), "Activated", "Subscribed", "team", 1); // 23:59:59.9999999

        // J: business 5 seats from 2 January (125.00); suspended 3 February (churn), cancelled 5 March (nothing more).
        J = Add("J", "insights-saas");
        Change(J, At(2025, 1, 2), "Activated", "Subscribed", "business", 5);
        Change(J, At(2025, 2, 3), "Suspended", "Suspended", "business", 5);
        Change(J, At(2025, 3, 5), "Unsubscribed", "Unsubscribed", "business", 5);

        // K: starter for a fortnight inside February: paying at neither end, so no movement at all.
        K = Add("K", "insights-saas");
        Change(K, At(2025, 2, 5), "Activated", "Subscribed", "starter", null);
        Change(K, At(2025, 2, 20), "Unsubscribed", "Unsubscribed", "starter", null);
    }

    public PriceBook Prices => new(ListPrices, Recorded, [], "USD");

    public static DateTimeOffset At(int y, int m, int d, int h = 0, int min = 0) => new(y, m, d, h, min, 0, TimeSpan.Zero);

    private static ListPrice List(string offer, string plan, string currency, string term, decimal price, bool perSeat) =>
        new(offer, plan, currency, term, price, perSeat, At(2025, 1, 1), null);

    private Guid Add(string name, string offer, string term = "P1M", bool trial = false, bool test = false)
    {
        var id = Guid.NewGuid();
        Subscriptions[id] = new RevenueSubscription(id, name, offer, term, test, trial);
        return id;
    }

    private void Change(Guid id, DateTimeOffset at, string kind, string status, string plan, int? quantity) =>
        Changes.Add(new StateChange(++_eventId, id, at, kind, status, plan, quantity));
}
