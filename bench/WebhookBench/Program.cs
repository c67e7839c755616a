using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using Marketplace;
using Marketplace.Emulator;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Abstractions;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

// Webhook ingestion (bearer JWT validation + durable inbox write, committed before the 200) against a bare Kestrel
// endpoint that only answers 200 — same process, same machine, same client, one after the other.
// Two measurements: a fixed offered load (open loop: requests start on a schedule whatever the answers do) for
// latency, and a closed loop (N requests always in flight) for the most each can take.
var settings = BenchSettings.Parse(args);
Console.WriteLine($"Webhook ingestion benchmark — offered {settings.Rate}/s for {settings.Seconds}s, closed loop {settings.Concurrency} in flight for {settings.Seconds}s, {Environment.ProcessorCount} cores");

await using var emulator = await EmulatorHost.StartAsync(new EmulatorOptions());
if (args.Contains("--scaleout"))
{
    Environment.ExitCode = await ScaleOutBench.RunAsync(emulator, settings, args);
    return;
}

var folder = Path.Combine(Path.GetTempPath(), "webhook-bench", Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(folder);
var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(folder, "portal.db")}");
await new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).ApplyAsync();

await using var bare = await Hosts.StartBareAsync();
await using var portal = await Hosts.StartIngestionAsync(emulator, database);
// Tokens are minted outside the timed loop: minting is Microsoft's cost, not ours. Entra reuses a token for its hour.
var token = await emulator.Simulator.MintWebhookTokenAsync();

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
var load = new LoadGenerator(http, token);

// Warm-up: JIT, connection pool, signing-key download, SQLite page cache.
await load.ClosedLoopAsync(bare.WebhookUri, 8, TimeSpan.FromSeconds(2));
await load.ClosedLoopAsync(portal.WebhookUri, 8, TimeSpan.FromSeconds(2));

var bareOpen = await load.OpenLoopAsync(bare.WebhookUri, settings.Rate, TimeSpan.FromSeconds(settings.Seconds));
var portalOpen = await load.OpenLoopAsync(portal.WebhookUri, settings.Rate, TimeSpan.FromSeconds(settings.Seconds));
var bareClosed = await load.ClosedLoopAsync(bare.WebhookUri, settings.Concurrency, TimeSpan.FromSeconds(settings.Seconds));
var portalClosed = await load.ClosedLoopAsync(portal.WebhookUri, settings.Concurrency, TimeSpan.FromSeconds(settings.Seconds));

Console.WriteLine();
Console.WriteLine("| run | endpoint | requests | 200s | throughput (req/s) | p50 (ms) | p99 (ms) | max (ms) |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
foreach (var (run, name, result) in new[]
{
    ($"open loop {settings.Rate}/s", "bare Kestrel 200", bareOpen), ($"open loop {settings.Rate}/s", "/api/webhook ingestion", portalOpen),
    ($"closed loop {settings.Concurrency}", "bare Kestrel 200", bareClosed), ($"closed loop {settings.Concurrency}", "/api/webhook ingestion", portalClosed),
})
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {run} | {name} | {result.Sent} | {result.Ok} | {result.Throughput:F0} | {result.Percentile(0.50):F2} | {result.Percentile(0.99):F2} | {result.Percentile(1):F2} |"));
}

Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Throughput ratio ingestion/bare: offered load {portalOpen.Throughput / bareOpen.Throughput:F2}, closed loop (capacity) {portalClosed.Throughput / bareClosed.Throughput:F2}"));

// Every 200 must be a committed row: count the accepted operations the client saw answered 200 against the inbox.
await using (var connection = await database.OpenAsync())
{
    var stored = (await connection.QueryAsync<string>("SELECT operation_id FROM webhook_deliveries WHERE result = 'Accepted'")).ToHashSet(StringComparer.OrdinalIgnoreCase);
    var answered = load.AcceptedOperations(portal.WebhookUri);
    var missing = answered.Count(id => !stored.Contains(id.ToString("D")));
    Console.WriteLine($"Persistence check: {answered.Count} deliveries answered 200, {stored.Count} accepted rows, {missing} answered but missing");
    Environment.ExitCode = missing == 0 && portalOpen.Ok == portalOpen.Sent && portalClosed.Ok == portalClosed.Sent ? 0 : 1;
}

Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
Directory.Delete(folder, recursive: true);

internal sealed record BenchSettings(int Rate, int Seconds, int Concurrency)
{
    public static BenchSettings Parse(string[] args)
    {
        int Value(string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
        }

        return new BenchSettings(Value("--rate", 400), Value("--seconds", 10), Value("--concurrency", 32));
    }
}

internal sealed class RunResult(int sent, int ok, TimeSpan elapsed, double[] latenciesMs)
{
    public int Sent => sent;
    public int Ok => ok;
    public double Throughput => ok / elapsed.TotalSeconds;

    public double Percentile(double p)
    {
        if (latenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var sorted = latenciesMs.Order().ToArray();
        var index = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }
}

internal sealed class LoadGenerator(HttpClient http, string token)
{
    private readonly Dictionary<Uri, List<Guid>> _accepted = [];
    private readonly Lock _gate = new();

    public IReadOnlyCollection<Guid> AcceptedOperations(Uri target)
    {
        lock (_gate)
        {
            return _accepted.TryGetValue(target, out var list) ? [.. list] : [];
        }
    }

    /// <summary>Starts requests at a fixed rate whatever happens to earlier ones; latency counts from the planned start.</summary>
    public async Task<RunResult> OpenLoopAsync(Uri target, int rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var interval = TimeSpan.FromSeconds(1.0 / rate);
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task<(bool Ok, double Ms)>>(total);
        for (var i = 0; i < total; i++)
        {
            var planned = interval * i;
            var wait = planned - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            tasks.Add(SendAsync(target, clock, planned));
        }

        var results = await Task.WhenAll(tasks);
        return new RunResult(total, results.Count(r => r.Ok), clock.Elapsed, [.. results.Select(r => r.Ms)]);
    }

    /// <summary>Keeps <paramref name="concurrency"/> requests in flight for the duration: the most the endpoint can take.</summary>
    public Task<RunResult> ClosedLoopAsync(Uri target, int concurrency, TimeSpan duration) => ClosedLoopAsync([target], concurrency, duration);

    /// <summary>The same over several instances: each in-flight slot sticks to one, as a load balancer spreads connections.</summary>
    public async Task<RunResult> ClosedLoopAsync(IReadOnlyList<Uri> targets, int concurrency, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var latencies = new List<double>();
        var sent = 0;
        var ok = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async slot =>
        {
            var target = targets[slot % targets.Count];
            while (clock.Elapsed < duration)
            {
                var (success, ms) = await SendAsync(target, clock, clock.Elapsed);
                lock (_gate)
                {
                    sent++;
                    ok += success ? 1 : 0;
                    latencies.Add(ms);
                }
            }
        }));
        return new RunResult(sent, ok, clock.Elapsed, [.. latencies]);
    }

    private async Task<(bool Ok, double Ms)> SendAsync(Uri target, Stopwatch clock, TimeSpan planned)
    {
        var operationId = Guid.NewGuid();
        var body = $$"""{"id":"{{operationId}}","activityId":"{{Guid.NewGuid()}}","subscriptionId":"{{Guid.NewGuid()}}","publisherId":"contoso-publisher","offerId":"insights-saas","planId":"team","quantity":10,"timeStamp":"{{DateTimeOffset.UtcNow:O}}","action":"ChangeQuantity","status":"InProgress","operationRequestSource":"Azure","purchaseToken":null}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        request.Headers.Add("x-ms-requestid", Guid.NewGuid().ToString());
        try
        {
            using var response = await http.SendAsync(request);
            var success = response.IsSuccessStatusCode;
            if (success)
            {
                lock (_gate)
                {
                    (_accepted.TryGetValue(target, out var list) ? list : _accepted[target] = []).Add(operationId);
                }
            }

            return (success, (clock.Elapsed - planned).TotalMilliseconds);
        }
        catch (HttpRequestException)
        {
            return (false, (clock.Elapsed - planned).TotalMilliseconds);
        }
    }
}

internal sealed class BenchHost(WebApplication app) : IAsyncDisposable
{
    public Uri WebhookUri { get; } = new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + WebhookEndpoints.Route);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

internal static class Hosts
{
    public static async Task<BenchHost> StartBareAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost(WebhookEndpoints.Route, () => Results.Ok());
        await app.StartAsync();
        return new BenchHost(app);
    }

    /// <summary>The portal's own webhook services and endpoint; the workers are off, so only ingestion is measured.</summary>
    public static async Task<BenchHost> StartIngestionAsync(RunningEmulator emulator, PortalDatabase database)
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
            ["Webhooks:RunProcessor"] = "false",
            ["Webhooks:RunAcknowledgementSender"] = "false",
            ["Webhooks:RunOperationTracker"] = "false",
            ["Webhooks:RunReconciler"] = "false",
        });
        builder.Services.AddSingleton(emulator);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SubscriptionStore>();
        builder.Services.AddSingleton<OperationStore>();
        // The workers are registered but idle; the tracker and reconciler need a client to be constructed.
        builder.Services.AddMarketplaceClient(options =>
        {
            options.BaseUri = emulator.ApiBaseUri;
            options.Instance = emulator.IdentityInstance;
            options.TenantId = emulator.Options.PublisherTenantId;
            options.ClientId = emulator.Options.PortalClientId;
            options.ClientSecret = emulator.Options.PortalClientSecret;
            options.DisableInstanceDiscovery = true;
            options.PinnedServerCertificate = emulator.TlsCertificate;
        });
        builder.Services.AddWebhookServices(builder.Configuration.GetSection(WebhooksOptions.Section));
        var app = builder.Build();
        app.MapWebhookEndpoints();
        await app.StartAsync();
        return new BenchHost(app);
    }
}
