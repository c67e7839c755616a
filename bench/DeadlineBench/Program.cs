using System.Diagnostics;
using System.Globalization;
using Marketplace;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Abstractions;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;
using PublisherPortal.Webhooks;

// The 10-second window under a burst: N customer ChangePlan/ChangeQuantity operations started in the emulator over S
// seconds (evenly spaced, alternating), each delivered by the emulator's own webhook dispatcher over loopback to the
// portal's real webhook endpoint and workers (production settings), which confirm it (Get operation), decide, apply
// and PATCH. Measured on the emulator's side: from the first delivery attempt to the first PATCH it answered 200.
// Runs: no faults, then 20% of fulfillment API calls (Get operation, PATCH) answered 429 or 500.
var count = Arg("--count", 1000);
var seconds = Arg("--seconds", 10);
var faultRuns = args.Contains("--no-faults") ? new[] { 0.0 } : [0.0, 0.2];
Console.WriteLine($"Acknowledgement deadline benchmark: {count} changes over {seconds} s, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
Console.WriteLine();
Console.WriteLine("| run | changes | acknowledged (200) | p50 (s) | p99 (s) | max (s) | over 10 s | never acknowledged | load avg before / after |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
foreach (var faultRate in faultRuns)
{
    await RunAsync(count, seconds, faultRate);
}

static async Task RunAsync(int count, int seconds, double faultRate)
{
    var folder = Path.Combine(Path.GetTempPath(), "deadline-bench", Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(folder);
    var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(folder, "portal.db")}");
    await new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).ApplyAsync();
    await using var emulator = await EmulatorHost.StartAsync(new EmulatorOptions());
    var portal = await StartPortalAsync(emulator, database);
    var client = portal.Services.GetRequiredService<IFulfillmentClient>();
    var subscriptions = portal.Services.GetRequiredService<SubscriptionStore>();

    // Set-up (not timed): N subscriptions bought, activated through the API and known to the portal.
    var ids = new Guid[count];
    await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
    {
        var purchase = await emulator.Simulator.PurchaseAsync(new PurchaseRequest { OfferId = EmulatorCatalogue.InsightsOffer, PlanId = "team", Quantity = 5 }, ct);
        await client.ActivateAsync(purchase.SubscriptionId, new ActivationRequest("team", 5), Guid.NewGuid(), ct);
        ids[i] = purchase.SubscriptionId;
    });
    await using (var connection = await database.OpenAsync())
    await using (var tx = await database.BeginWriteAsync(connection))
    {
        foreach (var id in ids)
        {
            await subscriptions.RecordFromMarketplaceAsync(emulator.Simulator.Find(id)!, connection, tx);
        }

        await tx.CommitAsync();
    }

    var loadBefore = LoadAverage();
    emulator.Options.Faults.FailureRate = faultRate;
    var operations = new Guid[count];
    var interval = TimeSpan.FromSeconds(seconds) / count;
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        var due = interval * i;
        if (due > clock.Elapsed)
        {
            await Task.Delay(due - clock.Elapsed);
        }

        operations[i] = i % 2 == 0
            ? await emulator.Simulator.ChangePlanAsync(ids[i], "business")
            : await emulator.Simulator.ChangeQuantityAsync(ids[i], 8);
    }

    // Wait until every operation has an accepted PATCH or has ended in the marketplace without one (the window passed
    // and the change stood), or two minutes pass.
    var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
    bool Settled(Guid op) => emulator.Simulator.StatusUpdatesFor(op).Any(u => u.AnsweredStatusCode == 200)
        || emulator.Simulator.FindOperation(op)?.Status is not (OperationStatus.InProgress or OperationStatus.NotStarted);
    while (DateTime.UtcNow < deadline && !operations.All(Settled))
    {
        await Task.Delay(500);
    }

    var loadAfter = LoadAverage();
    var latencies = new List<double>();
    var never = 0;
    var (patchRefused, noPatch, notDelivered) = (0, 0, 0);
    var firstAnswers = new List<double>();
    foreach (var op in operations)
    {
        var delivered = emulator.Simulator.DeliveriesFor(op).OrderBy(d => d.At).FirstOrDefault();
        var accepted = emulator.Simulator.StatusUpdatesFor(op).Where(u => u.AnsweredStatusCode == 200).OrderBy(u => u.ReceivedAt).FirstOrDefault();
        if (emulator.Simulator.DeliveriesFor(op).FirstOrDefault(d => d.Succeeded) is { } ok && delivered is not null)
        {
            firstAnswers.Add((ok.At - delivered.At).TotalSeconds);
        }

        if (delivered is null || accepted is null)
        {
            never++;
            if (!emulator.Simulator.DeliveriesFor(op).Any(d => d.Succeeded))
            {
                notDelivered++;
            }
            else if (emulator.Simulator.StatusUpdatesFor(op).Count > 0)
            {
                patchRefused++;
            }
            else
            {
                noPatch++;
            }

            continue;
        }

        latencies.Add((accepted.ReceivedAt - delivered.At).TotalSeconds);
    }

    latencies.Sort();
    double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
    var late = latencies.Count(l => l > 10);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {(faultRate == 0 ? "no faults" : $"{faultRate:P0} faults on Get operation and PATCH")}, {count / (double)seconds:F0}/s | {count} | {latencies.Count} | {P(0.5):F2} | {P(0.99):F2} | {P(1):F2} | {late} | {never} ({notDelivered} webhook never answered 200, {noPatch} no PATCH, {patchRefused} PATCH refused) | {loadBefore} / {loadAfter} |"));
    firstAnswers.Sort();
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  webhook answered 200 after first attempt: p50 {Pct(firstAnswers, 0.5):F2} s, p99 {Pct(firstAnswers, 0.99):F2} s, max {Pct(firstAnswers, 1):F2} s"));

    emulator.Options.WebhookUrl = null;
    await portal.StopAsync();
    await portal.DisposeAsync();
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(folder, recursive: true);
}

// The portal's webhook services, endpoint and workers with their production settings (poll interval, batch size,
// retry delays), over SQLite, talking to the emulator through the real client. The reconciler is off: it would call
// the marketplace for every subscription in the middle of the burst.
static async Task<WebApplication> StartPortalAsync(RunningEmulator emulator, PortalDatabase database)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.ClearProviders();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Webhooks:Instance"] = emulator.IdentityInstance.ToString(),
        ["Webhooks:PublisherTenantId"] = emulator.Options.PublisherTenantId,
        ["Webhooks:AudienceClientId"] = emulator.Options.PortalClientId,
        ["Webhooks:MarketplaceAppId"] = emulator.Options.MarketplaceAppId,
        ["Webhooks:RunReconciler"] = "false",
    });
    builder.Services.AddSingleton(emulator);
    builder.Services.AddSingleton(database);
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddSingleton<SubscriptionStore>();
    builder.Services.AddSingleton<OperationStore>();
    builder.Services.AddSingleton<AuditLog>();
    builder.Services.AddMarketplaceClient(options =>
    {
        options.BaseUri = emulator.ApiBaseUri;
        options.Instance = emulator.IdentityInstance;
        options.TenantId = emulator.Options.PublisherTenantId;
        options.ClientId = emulator.Options.PortalClientId;
        options.ClientSecret = emulator.Options.PortalClientSecret;
        options.MarketplaceAppId = emulator.Options.MarketplaceAppId;
        options.DisableInstanceDiscovery = true;
        options.PinnedServerCertificate = emulator.TlsCertificate;
    });
    builder.Services.AddWebhookServices(builder.Configuration.GetSection(WebhooksOptions.Section));
    var app = builder.Build();
    app.MapWebhookEndpoints();
    await app.StartAsync();
    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    emulator.Options.WebhookUrl = new Uri(address.TrimEnd('/') + WebhookEndpoints.Route);
    return app;
}

static double Pct(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

int Arg(string name, int fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
