// Revenue summary benchmark (issue 19). Run from the repository root:
//   dotnet run -c Release --project bench/RevenueBench
// Seeds SQLite files of 1,000 and 100,000 subscriptions with 10 history events each (1,000,000 at the large size) over
// 24 months, prices from the emulator's catalogue, then times RevenueQuery.MonthlyAsync for those 24 months (no
// drill-down lines kept, as the page asks when no figure is opened): median of 7 runs after a warm-up.
using System.Diagnostics;
using Marketplace.Emulator;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Revenue;

var now = new DateTimeOffset(2026, 12, 20, 12, 0, 0, TimeSpan.Zero);
var clock = new FixedClock(now);
var results = new List<(int Size, double Median, long Events)>();
foreach (var size in new[] { 1_000, 100_000 })
{
    var path = Path.Combine(Path.GetTempPath(), "revenue-bench", $"revenue-{size}.db");
    if (!File.Exists(path) || args.Contains("--reseed"))
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);
        var seedClock = Stopwatch.StartNew();
        await SeedAsync(path, size, now);
        Console.WriteLine($"seeded {size:N0} subscriptions in {seedClock.Elapsed.TotalSeconds:0.0} s");
    }

    var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={path}");
    var query = new RevenueQuery(database, clock, Options.Create(new RevenueOptions()));
    var first = new DateOnly(2025, 1, 1);
    var last = new DateOnly(2026, 12, 1);
    var report = await query.MonthlyAsync(first, last, new RevenueFilter()); // warm-up
    if (!report.Movements.All(m => m.Reconciles))
    {
        throw new InvalidOperationException("a month does not add up");
    }

    var times = new List<double>();
    for (var i = 0; i < 7; i++)
    {
        var sw = Stopwatch.StartNew();
        await query.MonthlyAsync(first, last, new RevenueFilter());
        times.Add(sw.Elapsed.TotalMilliseconds);
    }

    times.Sort();
    results.Add((size, times[times.Count / 2], size * 10L));
    Console.WriteLine($"{size,9:N0} subscriptions, {size * 10L,11:N0} events: median {times[times.Count / 2],8:0.0} ms (min {times[0]:0.0}, max {times[^1]:0.0}); " +
                      $"{report.Months.Count} months, {report.Currencies.Count} currencies, USD MRR at the end {report.Movements.Last(m => m.Currency == "USD").EndMrr:N2}");
}

Console.WriteLine($"ratio 100k / 1k: {results[1].Median / results[0].Median:0.00}x; load average: {File.ReadAllText("/proc/loadavg").Trim()}");

static async Task SeedAsync(string path, int size, DateTimeOffset now)
{
    var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={path}");
    await new Migrator(database, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Migrator>.Instance).ApplyAsync();
    await using (var connection = await database.OpenAsync())
    await using (var tx = await database.BeginWriteAsync(connection))
    {
        foreach (var offer in EmulatorCatalogue.CreateDefault())
        {
            await new PlanStore(new FixedClock(new DateTimeOffset(2024, 12, 1, 0, 0, 0, TimeSpan.Zero))).UpsertAsync(offer.OfferId, [.. offer.Plans], connection, tx, default);
        }

        await tx.CommitAsync();
    }

    using var sqlite = new SqliteConnection($"Data Source={path}");
    sqlite.Open();
    using var transaction = sqlite.BeginTransaction();
    var insertSubscription = sqlite.CreateCommand();
    insertSubscription.CommandText = """
        INSERT INTO subscriptions (id, name, publisher_id, offer_id, plan_id, quantity, status, term_unit, first_seen_at, updated_at)
        VALUES ($id, $name, 'bench', 'insights-saas', $plan, $quantity, $status, $term, $at, $at)
        """;
    var insertEvent = sqlite.CreateCommand();
    insertEvent.CommandText = """
        INSERT INTO subscription_events (subscription_id, offer_id, occurred_at, kind, to_status, to_plan, to_quantity, source)
        VALUES ($id, 'insights-saas', $at, $kind, $status, $plan, $quantity, 'marketplace')
        """;
    var random = new Random(size);
    var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    var span = (now - start).TotalMinutes;
    for (var i = 0; i < size; i++)
    {
        var id = Guid.NewGuid().ToString("D");
        var at = start.AddMinutes(random.NextDouble() * span * 0.6);
        var step = (now - at).TotalMinutes / 10;
        var quantity = random.Next(1, 40);
        var plan = random.Next(3) == 0 ? "team" : "business";
        var status = "Subscribed";
        // The row first (history references it); revenue reads status, plan and seats from the history, not from here.
        insertSubscription.Parameters.Clear();
        insertSubscription.Parameters.AddWithValue("$id", id);
        insertSubscription.Parameters.AddWithValue("$name", $"Bench {i:000000}");
        insertSubscription.Parameters.AddWithValue("$plan", plan);
        insertSubscription.Parameters.AddWithValue("$quantity", quantity);
        insertSubscription.Parameters.AddWithValue("$status", status);
        insertSubscription.Parameters.AddWithValue("$term", random.Next(5) == 0 ? "P1Y" : "P1M");
        insertSubscription.Parameters.AddWithValue("$at", Text(at));
        insertSubscription.ExecuteNonQuery();
        for (var e = 0; e < 10; e++)
        {
            string kind;
            if (e == 0) { kind = "Resolved"; status = "PendingFulfillmentStart"; }
            else if (e == 1) { kind = "Activated"; status = "Subscribed"; }
            else if (status == "Suspended") { kind = "Reinstated"; status = "Subscribed"; }
            else if (random.Next(8) == 0) { kind = "Suspended"; status = "Suspended"; }
            else { kind = "QuantityChanged"; quantity = Math.Max(5, quantity + random.Next(-3, 5)); }

            insertEvent.Parameters.Clear();
            insertEvent.Parameters.AddWithValue("$id", id);
            insertEvent.Parameters.AddWithValue("$at", Text(at.AddMinutes(step * e)));
            insertEvent.Parameters.AddWithValue("$kind", kind);
            insertEvent.Parameters.AddWithValue("$status", status);
            insertEvent.Parameters.AddWithValue("$plan", plan);
            insertEvent.Parameters.AddWithValue("$quantity", quantity);
            insertEvent.ExecuteNonQuery();
        }

    }

    transaction.Commit();
}

// The database's time format: fixed-width ISO-8601 UTC, so text order is time order.
static string Text(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
