using System.Security.Claims;
using System.Text;
using Dapper;
using Marketplace;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Offers;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Console;
using PublisherPortal.Tests.Landing;
using PublisherPortal.Tests.Offers;
using PublisherPortal.Tests.Webhooks;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Model;

/// <summary>
/// The system under test for the model-based test: one emulator (in process, answering over loopback HTTPS, its
/// webhooks signed and POSTed to our endpoint) and one portal host with the real services, over one database for the
/// whole run. Each sequence buys its own subscriptions and sets the offer's rules first, so sequences need no reset.
/// The portal's workers do not run on timers: <see cref="SettleAsync"/> drives them until nothing is left to do, so a
/// sequence is deterministic and fast.
/// </summary>
public sealed class ModelWorld : IAsyncDisposable
{
    public const string Offer = EmulatorCatalogue.InsightsOffer;

    private static readonly Dictionary<string, string?> ManualWorkers = new()
    {
        ["RunProcessor"] = "false",
        ["RunAcknowledgementSender"] = "false",
        ["RunOperationTracker"] = "false",
        ["RunReconciler"] = "false",
        ["RetryBaseDelay"] = "00:00:00.010",
        ["MaxRetryDelay"] = "00:00:00.050",
        ["OperationPollInterval"] = "00:00:00.010",
        ["MaxOperationPollInterval"] = "00:00:00.050",
    };

    private readonly WebhookScenario _scenario;
    private WebhookTestHost _portal;

    private ModelWorld(WebhookScenario scenario, WebhookTestHost portal)
    {
        _scenario = scenario;
        _portal = portal;
    }

    public static readonly ClaimsPrincipal Operator = ConsoleHosting.Person("olivia@publisher.example", Roles.Operator);

    public RunningEmulator Emulator => _scenario.Emulator;
    public MarketplaceSimulator Simulator => _scenario.Simulator;
    public PortalDatabase Database => _scenario.Database;
    public IServiceProvider Services => _portal.Services;

    public static async Task<ModelWorld> StartAsync()
    {
        var scenario = await WebhookScenario.StartAsync(o =>
        {
            // Our own changes finish at the next read; Microsoft's wait for our answer (never for the 10 s auto-accept).
            o.OperationDelay = TimeSpan.Zero;
            o.AutoAcceptAfter = TimeSpan.FromHours(1);
            o.WebhookRetry = new WebhookRetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(50) };
        });
        var world = new ModelWorld(scenario, await StartPortalAsync(scenario));
        var refreshed = await world.Services.CreateScope().ServiceProvider.GetRequiredService<OperatorActions>().RefreshCatalogueAsync(Operator);
        Assert.IsType<ConsoleActionResult.Done>(refreshed);
        return world;
    }

    private static Task<WebhookTestHost> StartPortalAsync(WebhookScenario scenario) =>
        scenario.StartPortalAsync(ManualWorkers, services =>
        {
            OffersHosting.AddOffersWithPolicies(services);
            services.AddScoped<CustomerSubscriptions>();
            services.AddSingleton<PointInTimeQuery>();
            // A fault is answered at once: a retried 429 waits out its Retry-After, which would make every fault cost a second.
            services.PostConfigure<MarketplaceClientOptions>(o => o.MaxRetryAttempts = 0);
        });

    /// <summary>What a process restart leaves: the database and the marketplace; nothing held in memory.</summary>
    public async Task RestartAsync()
    {
        await _scenario.StopAsync(_portal);
        _portal = await StartPortalAsync(_scenario);
    }

    public T Get<T>() where T : notnull => Services.CreateScope().ServiceProvider.GetRequiredService<T>();

    /// <summary>
    /// Runs the portal's workers until they find nothing to do: deliveries processed in order, answers to Microsoft
    /// sent, our own operations confirmed. Microsoft's retries of a failed delivery are awaited too.
    /// </summary>
    public async Task SettleAsync(IEnumerable<Guid> subscriptions)
    {
        var processor = Services.GetRequiredService<WebhookProcessor>();
        var sender = Services.GetRequiredService<AcknowledgementSender>();
        var tracker = Services.GetRequiredService<OperationTracker>();
        var operations = Services.GetRequiredService<OperationStore>();
        for (var round = 0; round < 50; round++)
        {
            await Simulator.WhenDeliveriesIdleAsync();
            var work = await processor.ProcessDueAsync() + await sender.SendDueAsync();
            foreach (var id in subscriptions)
            {
                if (await operations.FindPendingForAsync(id) is { } pending)
                {
                    await tracker.CheckNowAsync(pending.Id);
                    work++;
                }
            }

            if (work == 0 && !await AnythingDueAsync())
            {
                return;
            }

            if (work == 0)
            {
                // A delivery or answer waits for its retry time (milliseconds here).
                await Task.Delay(15);
            }
        }
    }

    /// <summary>Deliveries not yet processed and answers not yet sent, whatever their next attempt time.</summary>
    private async Task<bool> AnythingDueAsync()
    {
        await using var connection = await Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("""
            SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE processing_state = 'Pending' AND result = 'Accepted')
                 + (SELECT COUNT(*) FROM acknowledgements WHERE state = 'Pending')
            """) > 0;
    }

    public async Task SetRulesAsync(Step.Rules rules)
    {
        var store = new OfferPolicyStore(Database);
        var before = await store.FindAsync(Offer);
        var policy = before with
        {
            AcceptChanges = rules.AcceptChanges,
            MinimumSeats = rules.MinimumSeats is null ? MinimumSeatsRule.None : MinimumSeatsRule.Fixed,
            MinimumSeatsFixed = rules.MinimumSeats,
            AllowedPlanMoves = rules.OnlyTeamToBusiness ? [new PlanMove("team", "business")] : [],
        };
        await using var connection = await Database.OpenAsync();
        await using var tx = await Database.BeginWriteAsync(connection);
        var saved = await store.SaveAsync(policy, before.Version, "ada@publisher.example", DateTimeOffset.UtcNow, connection, tx);
        await tx.CommitAsync();
        if (saved is not PolicySaveOutcome.Saved)
        {
            throw new InvalidOperationException($"The offer's rules could not be saved: {saved}");
        }
    }

    /// <summary>POSTs an earlier delivery of Microsoft's again, signed as Microsoft signs it.</summary>
    public async Task<int> RedeliverAsync(Guid operationId)
    {
        var token = await Simulator.MintWebhookTokenAsync();
        using var answer = await _portal.PostAsync(WebhookTestHost.DeliveryBody(Emulator, operationId), "Bearer " + token);
        return (int)answer.StatusCode;
    }

    public async ValueTask DisposeAsync() => await _scenario.DisposeAsync();

    public static string Describe(SubscriptionRecord? s) =>
        s is null ? "(unknown here)" : $"{s.Status}, plan {s.PlanId}, seats {s.Quantity?.ToString() ?? "none"}, term {s.TermUnit} to {s.TermEnd:yyyy-MM-dd}, auto-renew {s.AutoRenew}";

    public static string Describe(MarketplaceSubscription? s) =>
        s is null ? "(unknown there)" : $"{s.SaasSubscriptionStatus}, plan {s.PlanId}, seats {s.Quantity?.ToString() ?? "none"}, term {s.Term?.TermUnit} to {s.Term?.EndDate:yyyy-MM-dd}, auto-renew {s.AutoRenew}";
}

/// <summary>What one sequence did and what it broke, for the failure message.</summary>
public sealed class SequenceLog
{
    private readonly StringBuilder _lines = new();

    public List<string> Violations { get; } = [];

    public void Note(Step step, string outcome) => _lines.AppendLine($"     {step} -> {outcome}");

    public void Violation(string what) => Violations.Add(what);

    public override string ToString() => _lines.ToString();
}
