using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Marketplace;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Metering;

// Metering benchmark: intake of N usage records through UsageIntake (the code POST /api/usage and /api/usage/batch run,
// minus HTTP and authentication) into a real SQLite file, then their aggregation into hours. Prints records per second
// and peak memory. Arguments: records, subscriptions, concurrent writers, reports per call (1 = the single endpoint).
var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var subscriptionCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
var writers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
var batchSize = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;

var folder = Path.Combine(Path.GetTempPath(), "metering-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(folder);
var now = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
var time = new FixedTime(now);

var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
services.AddSingleton(new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(folder, "portal.db")}"));
services.AddSingleton<TimeProvider>(time);
services.AddSingleton<Migrator>();
services.AddSingleton<SubscriptionStore>();
services.AddSingleton<UsageStore>();
services.AddSingleton<MeteringPlans>();
services.AddSingleton<UsageIntake>();
services.AddSingleton(Options.Create(new MeteringOptions()));
// The plans table answers every lookup; the marketplace client is registered only because MeteringPlans can fall back to it.
services.AddMarketplaceClient(o => { o.BaseUri = new Uri("https://marketplace.invalid/api/"); o.TenantId = "t"; o.ClientId = "c"; o.ClientSecret = "s"; });
await using var provider = services.BuildServiceProvider();
var database = provider.GetRequiredService<PortalDatabase>();
await provider.GetRequiredService<Migrator>().ApplyAsync();

var subscriptions = Enumerable.Range(0, subscriptionCount).Select(_ => Guid.NewGuid()).ToArray();
await SeedAsync(database, provider.GetRequiredService<SubscriptionStore>(), subscriptions, time);

var intake = provider.GetRequiredService<UsageIntake>();
var mode = batchSize == 1 ? "one report per call (POST /api/usage)" : $"batches of {batchSize} (POST /api/usage/batch)";
Console.WriteLine($"Intake: {records:N0} records, {subscriptionCount:N0} subscriptions, {writers} concurrent writers, {mode}, SQLite WAL at {folder}");
var clock = Stopwatch.StartNew();
var taken = 0;
await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
{
    int first;
    while ((first = Interlocked.Add(ref taken, batchSize) - batchSize) < records)
    {
        var reports = Enumerable.Range(first, Math.Min(batchSize, records - first)).Select(Report).ToList();
        var outcomes = await intake.RecordBatchAsync("key:bench", reports);
        if (outcomes.FirstOrDefault(o => o is not IntakeOutcome.Recorded) is { } refused)
        {
            throw new InvalidOperationException($"A record of the batch from {first} was not recorded: {refused}.");
        }
    }
})));
var intakeSeconds = clock.Elapsed.TotalSeconds;
var peakAfterIntake = Process.GetCurrentProcess().PeakWorkingSet64;
Console.WriteLine($"  {records / intakeSeconds:N0} records/s ({intakeSeconds:N1} s); peak working set {peakAfterIntake / 1048576.0:N0} MiB; managed allocated {GC.GetTotalAllocatedBytes() / 1048576.0:N0} MiB");

clock.Restart();
var result = await provider.GetRequiredService<UsageStore>().AggregateClosedHoursAsync(UsageTime.HourOf(now), now);
var aggregationSeconds = clock.Elapsed.TotalSeconds;
await using var check = await database.OpenAsync();
var hours = await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM usage_hours");
var summed = await check.ExecuteScalarAsync<long>("SELECT SUM(quantity_micros) FROM usage_hours");
var reported = await check.ExecuteScalarAsync<long>("SELECT SUM(quantity_micros) FROM usage_records");
Console.WriteLine($"Aggregation: {result.Records:N0} records into {hours:N0} hours in {aggregationSeconds:N1} s = {result.Records / aggregationSeconds:N0} records/s");
Console.WriteLine($"  sums match: {summed == reported} ({summed / 1_000_000m:N1} units); peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MiB; managed allocated {GC.GetTotalAllocatedBytes() / 1048576.0:N0} MiB in all");
Console.WriteLine($"Database file: {new FileInfo(Path.Combine(folder, "portal.db")).Length / 1048576.0:N0} MiB");

Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
Directory.Delete(folder, recursive: true);

// Spread over the last 20 closed hours, so aggregation has real work and nothing is too old to bill.
UsageReport Report(int i) => new()
{
    SubscriptionId = subscriptions[i % subscriptions.Length],
    Dimension = "reports-generated",
    Quantity = 1 + (i % 7) * 0.5m,
    OccurredAt = now.AddHours(-1 - (i / subscriptions.Length % 20)).AddSeconds(i % 3600).ToString("O", CultureInfo.InvariantCulture),
    IdempotencyKey = "bench-" + i.ToString(CultureInfo.InvariantCulture),
};

static async Task SeedAsync(PortalDatabase database, SubscriptionStore store, Guid[] subscriptions, TimeProvider time)
{
    await using var connection = await database.OpenAsync();
    await using var tx = await database.BeginWriteAsync(connection);
    var business = EmulatorCatalogue.CreateDefault().SelectMany(o => o.Plans.Select(p => (o.OfferId, Plan: p))).First(p => p.Plan.PlanId == "business");
    await connection.ExecuteAsync(
        "INSERT INTO plans (offer_id, plan_id, display_name, raw_json, refreshed_at) VALUES (@offerId, @planId, @name, @json, @at)",
        new { offerId = business.OfferId, planId = "business", name = "Business", json = JsonSerializer.Serialize(business.Plan, MarketplaceJson.Options), at = time.GetUtcNow() }, tx);
    foreach (var id in subscriptions)
    {
        await store.RecordFromMarketplaceAsync(new MarketplaceSubscription
        {
            Id = id, Name = "bench", PublisherId = "contoso-publisher", OfferId = business.OfferId, PlanId = "business", Quantity = 5,
            SaasSubscriptionStatus = SubscriptionStatus.Subscribed,
        }, connection, tx);
    }

    await tx.CommitAsync();
}

/// <summary>The benchmark's clock stands still, so every record falls in the same 24-hour window however long the run takes.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

