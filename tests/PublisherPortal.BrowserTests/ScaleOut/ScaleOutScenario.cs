using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Marketplace;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PublisherPortal.Data;

namespace PublisherPortal.BrowserTests.ScaleOut;

/// <summary>
/// A test that needs a real PostgreSQL server (PORTAL_TEST_POSTGRES, an admin connection string). Skipped, saying so,
/// when the variable is unset; when it is set, an unreachable server is a failure — .ci/run always sets it.
/// </summary>
public sealed class ScaleOutFactAttribute : FactAttribute
{
    public ScaleOutFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(ScaleOutScenario.AdminConnectionString))
        {
            Skip = "SKIPPED: scale-out tests need PostgreSQL — set PORTAL_TEST_POSTGRES to an admin connection string (or run .ci/run).";
        }
    }

    /// <summary>Also drives chromium: skipped without it, unless PORTAL_REQUIRE_BROWSER=1 (as every browser test).</summary>
    public bool NeedsBrowser
    {
        get => field;
        set
        {
            field = value;
            if (value && Skip is null && !File.Exists(BrowserFixture.ChromiumPath) && !BrowserFixture.Required)
            {
                Skip = $"No chromium at {BrowserFixture.ChromiumPath}: install Debian's chromium to run browser tests (PORTAL_REQUIRE_BROWSER=1 makes this a failure).";
            }
        }
    }
}

/// <summary>
/// One standalone emulator (in this process, as `dotnet run --project src/Marketplace.Emulator` would run it) and
/// portal processes in "external emulator" demo mode, each group sharing one fresh PostgreSQL database.
/// </summary>
public sealed class ScaleOutScenario : IAsyncDisposable
{
    private readonly List<string> _databases = [];
    private readonly Dictionary<PortalDatabase, string> _connectionStrings = [];
    private readonly List<PortalProcess> _portals = [];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "portal-scaleout-tests", Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _client;

    private ScaleOutScenario(RunningEmulator emulator, ServiceProvider client)
    {
        Emulator = emulator;
        _client = client;
    }

    public static string? AdminConnectionString => Environment.GetEnvironmentVariable("PORTAL_TEST_POSTGRES");

    public RunningEmulator Emulator { get; }

    public MarketplaceSimulator Simulator => Emulator.Simulator;

    /// <summary>The portal's own credentials, to activate purchases as the landing page would.</summary>
    public IFulfillmentClient Marketplace => _client.GetRequiredService<IFulfillmentClient>();

    public static async Task<ScaleOutScenario> StartAsync()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "portal-scaleout-tests", "emulator-" + Guid.NewGuid().ToString("N"));
        var emulator = await EmulatorHost.StartAsync(new EmulatorOptions
        {
            DataDirectory = dataDirectory,
            // Publisher acknowledgements, not the marketplace's patience, must settle ChangePlan/ChangeQuantity here.
            AutoAcceptAfter = TimeSpan.FromMinutes(10),
            WebhookRetry = { BaseDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(2), MaxAttempts = 20 },
        });
        var o = emulator.Options;
        var client = new ServiceCollection().AddLogging().AddMarketplaceClient(m =>
        {
            m.BaseUri = emulator.ApiBaseUri;
            m.Instance = emulator.IdentityInstance;
            m.TenantId = o.PublisherTenantId;
            m.ClientId = o.PortalClientId;
            m.ClientSecret = o.PortalClientSecret;
            m.MarketplaceAppId = o.MarketplaceAppId;
            m.DisableInstanceDiscovery = true;
            m.PinnedServerCertificate = emulator.TlsCertificate;
        }).BuildServiceProvider();
        return new ScaleOutScenario(emulator, client);
    }

    /// <summary>A fresh, empty database on the test server; the first portal to start migrates it.</summary>
    public async Task<PortalDatabase> CreateDatabaseAsync()
    {
        var name = "portal_scaleout_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            // Unreachable or refused: this throws, and the test fails — PORTAL_TEST_POSTGRES promised a server.
            await admin.OpenAsync();
            await admin.ExecuteAsync($"CREATE DATABASE {name}");
        }

        _databases.Add(name);
        var connectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ToString();
        var database = new PortalDatabase(DatabaseProvider.Postgres, connectionString);
        _connectionStrings[database] = connectionString;
        return database;
    }

    /// <summary>A portal instance on <paramref name="database"/>, using the shared emulator. Port 0: a new one.</summary>
    public async Task<PortalProcess> StartPortalAsync(PortalDatabase database, int port = 0)
    {
        var portal = await PortalProcess.StartAsync(Path.Combine(_root, Guid.NewGuid().ToString("N")), port, arguments:
        [
            "--Portal:Mode=Demo",
            $"--Portal:ExternalEmulator={Emulator.HttpsBaseUri}",
            $"--Portal:ExternalEmulatorCertificate={Path.Combine(Emulator.Options.DataDirectory!, "emulator-tls.pfx")}",
            "--Portal:SeedDemoData=false",
            "--Database:Provider=Postgres",
            $"--Database:ConnectionString={ConnectionStringOf(database)}",
            // Drift correction would add history whose timing differs run to run; it has its own job-lease tests.
            "--Webhooks:RunReconciler=false",
            // A killed instance's claims come back within the test's patience.
            "--Webhooks:LeaseDuration=00:00:10",
        ]);
        _portals.Add(portal);
        return portal;
    }

    /// <summary>Where Microsoft's side delivers: rotating over these instances, as a load balancer would.</summary>
    public void DeliverTo(params PortalProcess[] portals)
    {
        Emulator.Options.WebhookUrl = WebhookUrl(portals[0]);
        Emulator.Options.WebhookUrls = [.. portals.Skip(1).Select(WebhookUrl)];
    }

    /// <summary>A customer buys, the portal activates and records it: Subscribed in the marketplace and in <paramref name="database"/>.</summary>
    public async Task<Guid> ActiveSubscriptionAsync(PortalDatabase database, string planId, int quantity)
    {
        var purchase = await Simulator.PurchaseAsync(new PurchaseRequest { OfferId = EmulatorCatalogue.InsightsOffer, PlanId = planId, Quantity = quantity });
        await Marketplace.ActivateAsync(purchase.SubscriptionId, new ActivationRequest(planId, quantity), Guid.NewGuid());
        var subscription = await Marketplace.GetSubscriptionAsync(purchase.SubscriptionId, Guid.NewGuid());
        await using var connection = await database.OpenAsync();
        await using var tx = await database.BeginWriteAsync(connection);
        await new SubscriptionStore(database, TimeProvider.System).RecordFromMarketplaceAsync(subscription, connection, tx);
        await tx.CommitAsync();
        return purchase.SubscriptionId;
    }

    /// <summary>
    /// Delivers an operation again, freshly signed, the way Microsoft's retries arrive: a duplicate the inbox must
    /// recognise. The answer does not matter (a killed instance refuses the connection).
    /// </summary>
    public async Task RedeliverAsync(PortalProcess portal, Guid operationId)
    {
        var operation = Simulator.FindOperation(operationId)!;
        var body = JsonSerializer.Serialize(operation with { Subscription = Simulator.Find(operation.SubscriptionId) }, MarketplaceJson.Options);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Post, WebhookUrl(portal)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await Simulator.MintWebhookTokenAsync());
        try
        {
            using var _ = await http.SendAsync(request);
        }
        catch (HttpRequestException)
        {
            // The instance is down: exactly what a load balancer would route around.
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var portal in _portals)
        {
            await portal.DisposeAsync();
        }

        await Emulator.DisposeAsync();
        await _client.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            foreach (var name in _databases)
            {
                await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
            Directory.Delete(Emulator.Options.DataDirectory!, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner; no test depends on it.
        }
    }

    private static Uri WebhookUrl(PortalProcess portal) => new(portal.BaseUrl, "api/webhook");

    private string ConnectionStringOf(PortalDatabase database) => _connectionStrings[database];
}
