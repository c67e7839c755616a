using System.Data.Common;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Revenue;

namespace PublisherPortal.Demo;

/// <summary>
/// Eighteen months of made-up but plausible history for the revenue page: a few hundred subscriptions bought month after
/// month, some on yearly terms, some billed in euros or pounds, trials, test and reseller purchases, seat and plan
/// changes, suspensions that end in reinstatement or cancellation, cancellations, and accepted usage. Written straight
/// into the stores in one transaction (no marketplace round trips), so demo start-up stays fast; the emulator does not
/// know these subscriptions, which is why their names say "history" (docs/architecture.md#revenue).
/// </summary>
public static class RevenueDemoHistory
{
    public const int Subscriptions = 320;
    public const int Months = 18;
    public const string NameSuffix = " (history)";

    private static readonly string[] Companies =
    [
        "Adatum", "Alpine Ski House", "Bellows College", "Coho Winery", "Contoso Pharma", "Fabrikam Residences", "Fourth Coffee",
        "Graphic Design Institute", "Humongous Insurance", "Litware", "Lucerne Publishing", "Margie's Travel", "Northwind Traders",
        "Proseware", "Relecloud", "School of Fine Art", "Southridge Video", "Tailspin Toys", "Trey Research", "Wide World Importers",
        "Wingtip Toys", "Woodgrove Bank", "VanArsdel", "Blue Yonder Airlines",
    ];

    private sealed record PlanChoice(string OfferId, string PlanId, bool PerSeat, int MinSeats, int MaxSeats, int Weight);

    private static readonly PlanChoice[] Plans =
    [
        new("insights-saas", "starter", false, 0, 0, 30),
        new("insights-saas", "team", true, 1, 50, 30),
        new("insights-saas", "business", true, 5, 500, 12),
        new("backup-saas", "basic", false, 0, 0, 15),
        new("backup-saas", "pro", true, 1, 100, 13),
    ];

    /// <summary>Writes the history, ending at <paramref name="now"/>; same seed, same book.</summary>
    public static async Task WriteAsync(PortalDatabase database, TimeProvider time, CancellationToken ct, int seed = 19)
    {
        var now = time.GetUtcNow();
        var random = new Random(seed);
        var store = new SubscriptionStore(database, time); // no follower: history written after the fact mails nobody
        var start = RevenueCalculator.Start(new DateOnly(now.Year, now.Month, 1).AddMonths(-Months));
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        for (var i = 0; i < Subscriptions; i++)
        {
            // Purchases grow over time: later months see more of them.
            var bought = start + TimeSpan.FromDays(Months * 30.4 * Math.Sqrt(random.NextDouble())) + TimeSpan.FromMinutes(random.Next(0, 1440));
            if (bought >= now)
            {
                bought = now.AddDays(-1);
            }

            await WriteOneAsync(i, bought, now, random, store, connection, tx, ct);
        }

        await tx.CommitAsync(ct);
    }

    private static async Task WriteOneAsync(
        int index, DateTimeOffset bought, DateTimeOffset now, Random random, SubscriptionStore store, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var plan = Pick(random);
        var id = new Guid(random.Next(), (short)random.Next(short.MaxValue), (short)random.Next(short.MaxValue), [.. Enumerable.Range(0, 8).Select(_ => (byte)random.Next(256))]);
        var currencyRoll = random.NextDouble();
        var currency = currencyRoll < 0.7 ? "USD" : currencyRoll < 0.9 ? "EUR" : "GBP";
        var yearly = currency == "USD" && random.NextDouble() < 0.2; // only dollars are sold yearly in the demo catalogue
        var isTrial = random.NextDouble() < 0.06;
        var isTest = !isTrial && random.NextDouble() < 0.03;
        var reseller = random.NextDouble() < 0.1;
        int? seats = plan.PerSeat ? Math.Clamp((int)Math.Round(plan.MinSeats + Math.Pow(random.NextDouble(), 2) * 30), Math.Max(plan.MinSeats, 1), plan.MaxSeats) : null;
        var company = Companies[index % Companies.Length];
        var tenant = new Guid(index + 1, 0x19, 0x19, [1, 2, 3, 4, 5, 6, 7, (byte)(index % 256)]).ToString();

        var events = new List<SubscriptionEvent>();
        var current = plan;
        var status = "PendingFulfillmentStart";
        var planId = plan.PlanId;
        void Add(DateTimeOffset at, string kind, string toStatus, string toPlan, int? toSeats, string source)
        {
            events.Add(new SubscriptionEvent
            {
                SubscriptionId = id, OfferId = plan.OfferId, OccurredAt = at, Kind = kind,
                FromStatus = events.Count == 0 ? null : status, ToStatus = toStatus,
                FromPlan = events.Count == 0 ? null : planId, ToPlan = toPlan,
                FromQuantity = events.Count == 0 ? null : seats, ToQuantity = toSeats,
                Source = source, Actor = source == EventSources.Customer ? $"admin@{Slug(company)}.example" : null,
                Detail = "Demo history",
            });
            (status, planId, seats) = (toStatus, toPlan, toSeats);
        }

        Add(bought, EventKinds.Resolved, "PendingFulfillmentStart", planId, seats, EventSources.Customer);
        var t = bought.AddMinutes(random.Next(3, 600));
        if (random.NextDouble() < 0.04)
        {
            // Bought but never set up: the marketplace cancels it; never billed.
            Add(t.AddDays(random.Next(1, 20)), EventKinds.Unsubscribed, "Unsubscribed", planId, seats, EventSources.Marketplace);
        }
        else
        {
            Add(t, EventKinds.Activated, "Subscribed", planId, seats, EventSources.Customer);
            while (status != "Unsubscribed")
            {
                var roll = random.NextDouble();
                if (status == "Suspended")
                {
                    // A failed payment is settled (reinstated) within days, or the marketplace cancels it after 30.
                    var suspendedAt = events[^1].OccurredAt;
                    t = roll < 0.7 ? suspendedAt.AddDays(random.Next(2, 21)) : suspendedAt.AddDays(30);
                    if (t >= now)
                    {
                        break;
                    }

                    Add(t, roll < 0.7 ? EventKinds.Reinstated : EventKinds.Unsubscribed, roll < 0.7 ? "Subscribed" : "Unsubscribed",
                        planId, seats, EventSources.Marketplace);
                    continue;
                }

                t = t.AddDays(random.Next(8, 40)).AddMinutes(random.Next(0, 1440));
                if (t >= now)
                {
                    break;
                }

                if (roll < 0.035)
                {
                    Add(t, EventKinds.Unsubscribed, "Unsubscribed", planId, seats, EventSources.Customer);
                }
                else if (roll < 0.06)
                {
                    Add(t, EventKinds.Suspended, "Suspended", planId, seats, EventSources.Marketplace);
                }
                else if (roll < 0.16 && seats is { } n)
                {
                    var next = Math.Clamp(n + (random.NextDouble() < 0.72 ? random.Next(1, 6) : -random.Next(1, 4)), Math.Max(current.MinSeats, 1), current.MaxSeats);
                    if (next != n)
                    {
                        Add(t, EventKinds.QuantityChanged, "Subscribed", planId, next, EventSources.Customer);
                    }
                }
                else if (roll < 0.185 && Upgrade(plan.OfferId, planId) is { } up)
                {
                    current = up;
                    Add(t, EventKinds.PlanChanged, "Subscribed", up.PlanId, up.PerSeat ? Math.Max(seats ?? up.MinSeats, Math.Max(up.MinSeats, 1)) : null, EventSources.Customer);
                }
            }
        }

        var last = events[^1];
        var subscription = new MarketplaceSubscription
        {
            Id = id,
            Name = $"{company} {index + 1:000}{NameSuffix}",
            PublisherId = "contoso-publisher",
            OfferId = plan.OfferId,
            PlanId = last.ToPlan!,
            Quantity = last.ToQuantity,
            SaasSubscriptionStatus = Enum.Parse<SubscriptionStatus>(last.ToStatus!),
            Beneficiary = new Party { EmailId = $"admin@{Slug(company)}.example", ObjectId = id.ToString(), TenantId = tenant },
            Purchaser = reseller
                ? new Party { EmailId = "orders@reseller.example", ObjectId = Guid.Empty.ToString(), TenantId = "99999999-0000-0000-0000-000000000019" }
                : new Party { EmailId = $"admin@{Slug(company)}.example", ObjectId = id.ToString(), TenantId = tenant },
            Term = new SubscriptionTerm { TermUnit = yearly ? "P1Y" : "P1M", StartDate = bought, EndDate = bought.AddMonths(yearly ? 12 : 1) },
            AutoRenew = true,
            IsFreeTrial = isTrial,
            IsTest = isTest,
            AllowedCustomerOperations = ["Read", "Update", "Delete"],
            SandboxType = reseller ? "Csp" : "None",
            SessionMode = "None",
        };
        await store.RecordFromMarketplaceAsync(subscription, connection, tx, ct);
        foreach (var e in events)
        {
            await store.AppendEventAsync(e, connection, tx, ct);
        }

        if (currency != "USD")
        {
            await RecordPriceAsync(id, currency, null, null, bought.AddDays(-1), connection, tx, ct);
        }

        if (index % 97 == 5)
        {
            // A private offer: a negotiated yearly price, recorded by an Admin.
            await RecordPriceAsync(id, currency, "P1Y", 9_000m + (index % 5) * 1_500m, bought.AddDays(-1), connection, tx, ct);
        }

        if (plan.PlanId == "business" || planId == "business")
        {
            await UsageAsync(id, bought, status == "Unsubscribed" ? last.OccurredAt : now, random, connection, tx, ct);
        }
    }

    /// <summary>Each month a business subscription used, one accepted hour of reports: sometimes within the included 100, often beyond.</summary>
    private static async Task UsageAsync(Guid id, DateTimeOffset from, DateTimeOffset until, Random random, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        for (var hour = new DateTimeOffset(from.Year, from.Month, from.Day, from.Hour, 0, 0, TimeSpan.Zero).AddDays(3); hour < until.AddHours(-2); hour = hour.AddMonths(1))
        {
            var units = random.Next(40, 420);
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO usage_hours (subscription_id, dimension, hour_start, quantity_micros, record_count, state, result_status, plan_id,
                                         billed_quantity_micros, created_at, updated_at, answered_at)
                VALUES (@id, 'reports-generated', @hour, @micros, 1, 'Accepted', 'Accepted', 'business', @micros, @hour, @hour, @hour)
                """, new { id, hour, micros = units * 1_000_000L }, tx, cancellationToken: ct));
        }
    }

    private static Task RecordPriceAsync(Guid id, string currency, string? term, decimal? price, DateTimeOffset from, DbConnection connection, DbTransaction tx, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO subscription_prices (subscription_id, currency, term_unit, price_micros, is_per_seat, valid_from, recorded_at, recorded_by, note)
            VALUES (@id, @currency, @term, @micros, @perSeat, @from, @from, 'demo seeder', 'Demo history')
            """, new { id, currency, term, micros = price is { } p ? PlanPriceStore.Micros(p) : (long?)null, perSeat = false, from }, tx, cancellationToken: ct));

    private static PlanChoice Pick(Random random)
    {
        var roll = random.Next(Plans.Sum(p => p.Weight));
        foreach (var plan in Plans)
        {
            roll -= plan.Weight;
            if (roll < 0)
            {
                return plan;
            }
        }

        return Plans[0];
    }

    private static PlanChoice? Upgrade(string offerId, string planId) => (offerId, planId) switch
    {
        ("insights-saas", "starter") => Plans[1],
        ("insights-saas", "team") => Plans[2],
        ("backup-saas", "basic") => Plans[4],
        _ => null,
    };

    private static string Slug(string company) => new([.. company.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit)]);
}
