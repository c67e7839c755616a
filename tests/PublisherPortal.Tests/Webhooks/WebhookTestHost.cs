using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Marketplace;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>
/// One portal instance as far as webhooks go: the portal's real webhook services and endpoint on a real Kestrel
/// listening on loopback, over a SQLite file, talking to the emulator through the real client. Several instances over
/// one file stand for several servers, or for one server before and after a crash.
/// </summary>
public sealed class WebhookTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookTestHost(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }
    public Uri WebhookUri => new(BaseUri, WebhookEndpoints.Route.TrimStart('/'));
    public IServiceProvider Services => _app.Services;
    public PortalDatabase Database => Services.GetRequiredService<PortalDatabase>();
    public SubscriptionStore Subscriptions => Services.GetRequiredService<SubscriptionStore>();
    public IFulfillmentClient Marketplace => Services.GetRequiredService<IFulfillmentClient>();
    public WebhookProcessor Processor => Services.GetRequiredService<WebhookProcessor>();
    public AcknowledgementSender Sender => Services.GetRequiredService<AcknowledgementSender>();
    public OperationTracker Tracker => Services.GetRequiredService<OperationTracker>();
    public Reconciler Reconciler => Services.GetRequiredService<Reconciler>();

    /// <summary>
    /// Starts an instance. <paramref name="settings"/> overrides the "Webhooks" section (e.g. RunProcessor=false to stop
    /// before processing); <paramref name="services"/> replaces services (seat usage, a stub marketplace).
    /// </summary>
    public static async Task<WebhookTestHost> StartAsync(
        RunningEmulator emulator,
        PortalDatabase database,
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        bool receiveWebhooks = true)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var configuration = new Dictionary<string, string?>
        {
            ["Webhooks:Instance"] = emulator.IdentityInstance.ToString(),
            ["Webhooks:PublisherTenantId"] = emulator.Options.PublisherTenantId,
            ["Webhooks:AudienceClientId"] = emulator.Options.PortalClientId,
            ["Webhooks:MarketplaceAppId"] = emulator.Options.MarketplaceAppId,
            // Fast tests: short waits everywhere; the reconciler runs only when a test asks for it.
            ["Webhooks:PollInterval"] = "00:00:00.100",
            ["Webhooks:RetryBaseDelay"] = "00:00:00.100",
            ["Webhooks:MaxRetryDelay"] = "00:00:01",
            ["Webhooks:OperationPollInterval"] = "00:00:00.200",
            ["Webhooks:MaxOperationPollInterval"] = "00:00:01",
            ["Webhooks:LeaseDuration"] = "00:00:05",
            ["Webhooks:RunReconciler"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration["Webhooks:" + key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton(emulator);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SubscriptionStore>();
        builder.Services.AddSingleton<OperationStore>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddScoped<SubscriptionChangeService>();
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
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
        });
        builder.Services.AddWebhookServices(builder.Configuration.GetSection(WebhooksOptions.Section));
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseRateLimiter();
        app.MapWebhookEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new WebhookTestHost(app, new Uri(address.TrimEnd('/') + "/"));
        if (receiveWebhooks)
        {
            emulator.Options.WebhookUrl = host.WebhookUri;
        }

        return host;
    }

    /// <summary>Stops the instance as a crash would, as far as the database goes: whatever was not committed is lost.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>POSTs a body to our webhook over loopback with the given Authorization header value (null: none).</summary>
    public async Task<HttpResponseMessage> PostAsync(string body, string? authorization)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, WebhookUri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        request.Headers.Add("x-ms-requestid", Guid.NewGuid().ToString());
        return await http.SendAsync(request);
    }

    /// <summary>The body Microsoft's side would deliver for an operation the emulator holds.</summary>
    public static string DeliveryBody(RunningEmulator emulator, Guid operationId)
    {
        var operation = emulator.Simulator.FindOperation(operationId) ?? throw new InvalidOperationException("unknown operation");
        return JsonSerializer.Serialize(operation with { Subscription = emulator.Simulator.Find(operation.SubscriptionId) }, MarketplaceJson.Options);
    }

    /// <summary>A customer buys and the portal activates: Subscribed in the marketplace and here.</summary>
    public async Task<Guid> ActiveSubscriptionAsync(
        RunningEmulator emulator, string planId = "team", int? quantity = 5, string offerId = EmulatorCatalogue.InsightsOffer, bool recordHere = true)
    {
        var purchase = await emulator.Simulator.PurchaseAsync(new PurchaseRequest { OfferId = offerId, PlanId = planId, Quantity = quantity });
        await Marketplace.ActivateAsync(purchase.SubscriptionId, new ActivationRequest(planId, quantity), Guid.NewGuid());
        var subscription = await Marketplace.GetSubscriptionAsync(purchase.SubscriptionId, Guid.NewGuid());
        if (!recordHere)
        {
            return purchase.SubscriptionId;
        }

        await using var connection = await Database.OpenAsync();
        await using var tx = await Database.BeginWriteAsync(connection);
        await Subscriptions.RecordFromMarketplaceAsync(subscription, connection, tx);
        await tx.CommitAsync();
        return purchase.SubscriptionId;
    }

    /// <summary>Our catalogue (the plans table) as a test wants it.</summary>
    public async Task SeedPlanAsync(string offerId, string planId, bool perSeat, int? min = null, int? max = null, bool stopSell = false)
    {
        await using var connection = await Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO plans (offer_id, plan_id, display_name, is_price_per_seat, min_quantity, max_quantity, is_stop_sell, raw_json, refreshed_at)
            VALUES (@offerId, @planId, @planId, @perSeat, @min, @max, @stopSell, '{}', @now)
            """, new { offerId, planId, perSeat, min, max, stopSell, now = DateTimeOffset.UtcNow });
    }

    public async Task<IReadOnlyList<WebhookDeliveryRecord>> DeliveriesAsync()
    {
        await using var connection = await Database.OpenAsync();
        return (await connection.QueryAsync<WebhookDeliveryRecord>("""
            SELECT id, received_at, operation_id, subscription_id, action, operation_time_stamp, body, headers, result,
                   reject_reason, is_test, processing_state, attempts, next_attempt_at, processed_at, process_detail,
                   body_bytes, body_sha256
            FROM webhook_deliveries ORDER BY id
            """)).AsList();
    }

    /// <summary>Waits until the delivery of <paramref name="operationId"/> has left Pending (applied, refused, stale, …).</summary>
    public Task<WebhookDeliveryRecord> ProcessedAsync(Guid operationId, TimeSpan? within = null) =>
        Eventually.HoldsAsync(
            async () => (await DeliveriesAsync()).FirstOrDefault(d => d.OperationId == operationId && d.Result == DeliveryResults.Accepted),
            d => d is not null && d.ProcessingState != ProcessingStates.Pending,
            $"delivery of {operationId} processed", within)!;

    /// <summary>
    /// Runs processor and sender rounds until a round finds nothing to do and no delivery or acknowledgement is left
    /// open (pending, or claimed by a background round still in flight). Every PATCH we send comes from an
    /// acknowledgement row, one per operation; once none is open, no further PATCH can come — an absence proven by the
    /// queue, not by waiting and hoping.
    /// </summary>
    public async Task DrainAsync()
    {
        await Eventually.HoldsAsync(
            async () =>
            {
                var worked = await Processor.ProcessDueAsync() + await Sender.SendDueAsync();
                await using var connection = await Database.OpenAsync();
                var open = await connection.ExecuteScalarAsync<long>("""
                    SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE processing_state = @pendingDelivery)
                         + (SELECT COUNT(*) FROM acknowledgements WHERE state = @pendingAcknowledgement)
                    """, new { pendingDelivery = ProcessingStates.Pending, pendingAcknowledgement = AcknowledgementStates.Pending });
                return (Worked: worked, Open: open);
            },
            round => round.Worked == 0 && round.Open == 0,
            "webhook inbox and acknowledgement outbox drained");
    }

    public Task<AcknowledgementRecord?> AcknowledgementAsync(Guid operationId) =>
        Services.GetRequiredService<AcknowledgementStore>().FindByOperationAsync(operationId);

    public async Task<IReadOnlyList<SubscriptionEvent>> EventsForOperationAsync(Guid subscriptionId, Guid operationId) =>
        [.. (await Subscriptions.HistoryAsync(subscriptionId)).Where(e => e.OperationId == operationId)];
}

/// <summary>Polls a condition until it holds or the time is up; the failure message says what was awaited.</summary>
public static class Eventually
{
    public static async Task<T> HoldsAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTimeOffset.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        T value;
        do
        {
            value = await probe();
            if (condition(value))
            {
                return value;
            }

            await Task.Delay(50);
        }
        while (DateTimeOffset.UtcNow < deadline);

        throw new Xunit.Sdk.XunitException($"Timed out waiting for: {what}. Last value: {JsonSerializer.Serialize(value)}");
    }
}

/// <summary>A fresh emulator and a migrated SQLite file per test; nothing is shared between tests.</summary>
public sealed class WebhookScenario : IAsyncDisposable
{
    private readonly Support.TestDatabase _database;
    private readonly List<WebhookTestHost> _hosts = [];

    private WebhookScenario(RunningEmulator emulator, Support.TestDatabase database)
    {
        Emulator = emulator;
        _database = database;
    }

    public RunningEmulator Emulator { get; }
    public MarketplaceSimulator Simulator => Emulator.Simulator;
    /// <summary>The scenario's database (SQLite file or PostgreSQL, as TestDatabase decides); every instance shares it.</summary>
    public PortalDatabase Database => _database.Database;

    public static async Task<WebhookScenario> StartAsync(Action<EmulatorOptions>? configure = null)
    {
        var options = new EmulatorOptions
        {
            OperationDelay = TimeSpan.FromMilliseconds(300),
            WebhookRetry = new WebhookRetryOptions { MaxAttempts = 8, BaseDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(1) },
        };
        configure?.Invoke(options);
        var emulator = await EmulatorHost.StartAsync(options);
        return new WebhookScenario(emulator, await Support.TestDatabase.CreateAsync());
    }

    /// <summary>Starts a portal instance over this scenario's database; it is stopped with the scenario unless stopped before.</summary>
    public async Task<WebhookTestHost> StartPortalAsync(
        IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, bool receiveWebhooks = true)
    {
        var host = await WebhookTestHost.StartAsync(Emulator, Database, settings, services, receiveWebhooks);
        _hosts.Add(host);
        return host;
    }

    public async Task StopAsync(WebhookTestHost host)
    {
        _hosts.Remove(host);
        await host.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Emulator.Options.WebhookUrl = null;
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await Emulator.DisposeAsync();
        await _database.DisposeAsync();
    }
}
