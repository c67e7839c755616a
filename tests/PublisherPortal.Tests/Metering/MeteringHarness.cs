using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Marketplace;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Metering;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Metering;

/// <summary>
/// A real SQLite file, the emulator started in-process on the same FakeTimeProvider (so "24 hours" means the same on
/// both sides), and the metering services wired as the portal wires them. <see cref="Restart"/> builds fresh services
/// over the same database and emulator — what a process restart leaves behind.
/// </summary>
public sealed class MeteringHarness : IAsyncDisposable
{
    private readonly List<ServiceProvider> _providers = [];

    private MeteringHarness(TestDatabase db, RunningEmulator emulator)
    {
        Db = db;
        Emulator = emulator;
    }

    public TestDatabase Db { get; }
    public RunningEmulator Emulator { get; }
    public ServiceProvider Services { get; private set; } = null!;

    /// <summary>Bodies of every batch POST that reached the wire, in order.</summary>
    public ConcurrentQueue<string> BatchBodies { get; } = new();

    public UsageSubmitter Submitter => Services.GetRequiredService<UsageSubmitter>();
    public UsageStore Store => Services.GetRequiredService<UsageStore>();
    public UsageIntake Intake => Services.GetRequiredService<UsageIntake>();
    public MeteringConsole Console => Services.GetRequiredService<MeteringConsole>();

    public static async Task<MeteringHarness> StartAsync(Func<HttpMessageHandler>? meteringWire = null)
    {
        var db = await TestDatabase.CreateAsync();
        var options = new EmulatorOptions
        {
            // Tokens are minted and checked on the fake clock while MSAL caches them on the real one: long-lived here.
            AccessTokenLifetime = TimeSpan.FromDays(5),
            OperationDelay = TimeSpan.FromSeconds(1),
        };
        var emulator = await EmulatorHost.StartAsync(options, db.Time);
        var harness = new MeteringHarness(db, emulator);
        harness.Restart(meteringWire);
        return harness;
    }

    /// <summary>New services over the same database and emulator; <paramref name="meteringWire"/> sits next to the wire.</summary>
    public void Restart(Func<HttpMessageHandler>? meteringWire = null)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(Db.Database);
        services.AddSingleton<TimeProvider>(Db.Time);
        services.AddSingleton<SubscriptionStore>();
        services.AddSingleton<AuditLog>();
        services.AddMarketplaceClient(o =>
        {
            o.BaseUri = Emulator.ApiBaseUri;
            o.Instance = Emulator.IdentityInstance;
            o.TenantId = Emulator.Options.PublisherTenantId;
            o.ClientId = Emulator.Options.PortalClientId;
            o.ClientSecret = Emulator.Options.PortalClientSecret;
            o.MarketplaceAppId = Emulator.Options.MarketplaceAppId;
            o.DisableInstanceDiscovery = true;
            o.PinnedServerCertificate = Emulator.TlsCertificate;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
        });
        var metering = services.AddHttpClient(MarketplaceHttpClients.Metering)
            .AddHttpMessageHandler(() => new BatchRecorder(BatchBodies));
        if (meteringWire is not null)
        {
            metering.AddHttpMessageHandler(() => (DelegatingHandler)meteringWire());
        }

        services.AddSingleton(Options.Create(new MeteringOptions { RunWorker = false }));
        services.AddSingleton<UsageStore>();
        services.AddSingleton<MeteringPlans>();
        services.AddSingleton<UsageIntake>();
        services.AddSingleton<UsageSubmitter>();
        services.AddSingleton<MeteringConsole>();
        Services = services.BuildServiceProvider();
        _providers.Add(Services);
    }

    /// <summary>A business-plan purchase (metering dimension "reports-generated"), activated, and known to the portal.</summary>
    public async Task<Guid> SubscribeAsync(string planId = "business")
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = planId, Quantity = planId == "business" ? 5 : 2 });
        var fulfillment = Services.GetRequiredService<IFulfillmentClient>();
        await fulfillment.ActivateAsync(purchase.SubscriptionId, new ActivationRequest(planId, null), Guid.NewGuid());
        var subscription = Emulator.Simulator.Find(purchase.SubscriptionId)!;
        await using var connection = await Db.Database.OpenAsync();
        await using var tx = await Db.Database.BeginWriteAsync(connection);
        await Services.GetRequiredService<SubscriptionStore>().RecordFromMarketplaceAsync(subscription, connection, tx);
        await tx.CommitAsync();
        return purchase.SubscriptionId;
    }

    public async Task<UsageReceipt> ReportAsync(Guid subscriptionId, decimal quantity, DateTimeOffset? occurredAt = null, string? key = null)
    {
        var outcome = await Intake.RecordAsync("key:test", new UsageReport
        {
            SubscriptionId = subscriptionId,
            Dimension = "reports-generated",
            Quantity = quantity,
            OccurredAt = (occurredAt ?? Db.Time.GetUtcNow()).ToString("O"),
            IdempotencyKey = key ?? Guid.NewGuid().ToString(),
        });
        return Assert.IsType<IntakeOutcome.Recorded>(outcome).Receipt;
    }

    public async Task<IReadOnlyList<UsageHour>> HoursAsync(Guid subscriptionId) =>
        await Store.HoursForSubscriptionAsync(subscriptionId, DateTimeOffset.MinValue.AddYears(2000), DateTimeOffset.MaxValue.AddYears(-2000));

    /// <summary>Stores the emulator's catalogue in the plans table, as the console's plan refresh would.</summary>
    public static async Task SeedPlansAsync(TestDatabase db)
    {
        await using var connection = await db.Database.OpenAsync();
        foreach (var offer in EmulatorCatalogue.CreateDefault())
        {
            foreach (var plan in offer.Plans)
            {
                await connection.ExecuteAsync("""
                    INSERT INTO plans (offer_id, plan_id, display_name, raw_json, refreshed_at)
                    VALUES (@offerId, @planId, @displayName, @rawJson, @refreshedAt)
                    """, new
                {
                    offerId = offer.OfferId,
                    planId = plan.PlanId,
                    displayName = plan.DisplayName,
                    rawJson = JsonSerializer.Serialize(plan, MarketplaceJson.Options),
                    refreshedAt = db.Time.GetUtcNow(),
                });
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await Emulator.DisposeAsync();
        await Db.DisposeAsync();
    }

    private sealed class BatchRecorder(ConcurrentQueue<string> bodies) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/batchUsageEvent", StringComparison.Ordinal) && request.Content is not null)
            {
                bodies.Enqueue(await request.Content.ReadAsStringAsync(cancellationToken));
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>The process dies after the marketplace received the batch and before its answer was stored.</summary>
public sealed class CrashAfterSendingException() : Exception("Simulated crash after the batch reached the marketplace.");

/// <summary>Lets the first batch reach the marketplace, then "crashes" before the answer can be recorded.</summary>
public sealed class CrashAfterFirstBatch(CrashSwitch crash) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.RequestUri!.AbsolutePath.EndsWith("/batchUsageEvent", StringComparison.Ordinal) && crash.TryFire())
        {
            response.Dispose();
            throw new CrashAfterSendingException();
        }

        return response;
    }
}

/// <summary>Fires once, shared by every handler instance the HttpClient factory makes.</summary>
public sealed class CrashSwitch
{
    private int _armed = 1;

    public bool TryFire() => Interlocked.Exchange(ref _armed, 0) == 1;
}
