using Dapper;
using Marketplace.Emulator;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Offers;

namespace PublisherPortal.Demo;

/// <summary>
/// On the first start of demo mode, buys a few subscriptions in the emulator and takes them through the real flows —
/// landing, wizard, activation, then Microsoft-side webhooks — so the console and finance pages are not empty and every
/// row got where it is the way a real one would.
/// </summary>
public sealed partial class DemoSeeder(
    RunningEmulator emulator,
    PortalDatabase database,
    IServiceScopeFactory scopes,
    IHostApplicationLifetime lifetime,
    IOptions<PortalModeOptions> options,
    ILogger<DemoSeeder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.SeedDemoData)
        {
            return;
        }

        // Webhooks need the portal's own address, which the emulator learns once the server listens.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        await using (var connection = await database.OpenAsync(stoppingToken))
        {
            if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscriptions") > 0)
            {
                return;
            }
        }

        try
        {
            await SeedAsync(stoppingToken);
            Log.Seeded(logger);
            // After the real purchases above, which listed the plans and so recorded their prices.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var scope = scopes.CreateScope())
            {
                await RevenueDemoHistory.WriteAsync(database, scope.ServiceProvider.GetRequiredService<TimeProvider>(), stoppingToken);
            }

            Log.HistorySeeded(logger, RevenueDemoHistory.Subscriptions, RevenueDemoHistory.Months, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // Demo data is a convenience; the portal works without it.
            Log.SeedFailed(logger, e);
        }
    }

    private async Task SeedAsync(CancellationToken ct)
    {
        var simulator = emulator.Simulator;
        await using (var scope = scopes.CreateAsyncScope())
        {
            // Customers read offers by name; the marketplace's API only knows the ids.
            var names = scope.ServiceProvider.GetRequiredService<OfferNames>();
            await names.SaveAsync("insights-saas", "Contoso Insights", DemoActor, ct);
            await names.SaveAsync("backup-saas", "Contoso Backup", DemoActor, ct);
        }

        var contosoTeam = await BuyAsync(new PurchaseRequest { PlanId = "team", Quantity = 10, SubscriptionName = "Contoso analytics" }, activate: true, ct);
        var contosoBackup = await BuyAsync(new PurchaseRequest { OfferId = "backup-saas", PlanId = "pro", Quantity = 25, SubscriptionName = "Contoso backup" }, activate: true, ct);
        await BuyAsync(PurchaseRequest.ResellerDemo() with { SubscriptionName = "Fabrikam via reseller" }, activate: true, ct, DemoIdentities.Bob);
        var suspended = await BuyAsync(new PurchaseRequest { PlanId = "starter", SubscriptionName = "Contoso pilot" }, activate: true, ct);
        var ended = await BuyAsync(new PurchaseRequest { PlanId = "business", Quantity = 5, SubscriptionName = "Contoso trial", IsTest = true }, activate: true, ct);
        await BuyAsync(new PurchaseRequest { PlanId = "team", Quantity = 3, SubscriptionName = "Northwind evaluation", Beneficiary = DemoIdentities.Mallory }, activate: false, ct, DemoIdentities.Mallory);

        // Microsoft's side: each arrives as a signed webhook and goes through the inbox like a real delivery.
        await simulator.ChangeQuantityAsync(contosoTeam, 15, ct);
        await simulator.ChangePlanAsync(contosoBackup, "basic", ct);
        await simulator.SuspendAsync(suspended, ct);
        await simulator.UnsubscribeAsync(ended, ct);

        // Offer settings come after the purchases above, which activated the way they always did. From here on the
        // backup offer needs an operator's approval and asks two questions; one purchase waits in the approval queue.
        await ConfigureBackupOfferAsync(ct);
        await BuyAsync(new PurchaseRequest { OfferId = "backup-saas", PlanId = "pro", Quantity = 40, SubscriptionName = "Contoso archive" }, activate: true, ct,
            answers: new() { ["retention-days"] = "90", ["storage-tier"] = "Archive" });
    }

    /// <summary>The demo's "interesting" offer: approval before activation, and custom fields in the wizard.</summary>
    private async Task ConfigureBackupOfferAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var policies = scope.ServiceProvider.GetRequiredService<OfferPolicyStore>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var before = await policies.FindAsync("backup-saas", ct);
        var policy = before with
        {
            Activation = ActivationMode.OperatorApproval,
            CustomFields =
            [
                new CustomField { Name = "retention-days", Label = "Keep backups for (days)", Type = CustomFieldType.Number, Required = true, Min = 7, Max = 365 },
                new CustomField { Name = "storage-tier", Label = "Storage tier", Type = CustomFieldType.Choice, Required = true, Options = ["Standard", "Archive"] },
                new CustomField { Name = "security-contact", Label = "Security contact e-mail", Type = CustomFieldType.Email, HelpText = "Told about restore requests" },
            ],
        };
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        if (await policies.SaveAsync(policy, before.Version, DemoActor, time.GetUtcNow(), connection, tx, ct) is PolicySaveOutcome.Saved)
        {
            await audit.RecordAsync(DemoActor, OfferSettings.AuditAction, null, $"backup-saas: {string.Join("; ", policy.DifferencesFrom(before))}", "Saved version 1", connection, tx, ct);
        }

        await tx.CommitAsync(ct);
    }

    private const string DemoActor = "demo seeder";

    private async Task<Guid> BuyAsync(
        PurchaseRequest request, bool activate, CancellationToken ct, DemoIdentity? customer = null, Dictionary<string, string?>? answers = null)
    {
        var who = customer ?? DemoIdentities.Alice;
        var purchase = await emulator.Simulator.PurchaseAsync(request, ct);
        var user = new CurrentUser(who.ObjectId.ToString(), who.TenantId, who.Email, who.DisplayName);

        await using var scope = scopes.CreateAsyncScope();
        var landing = scope.ServiceProvider.GetRequiredService<LandingService>();
        await landing.OpenAsync(purchase.Token, user, ct);
        if (activate)
        {
            await landing.SaveSetupAsync(purchase.SubscriptionId, new AccountSetup
            {
                OrganisationName = who.TenantName,
                AdminName = who.DisplayName,
                AdminEmail = who.Email,
                Answers = answers ?? [],
            }, user, ct);
            await landing.ActivateAsync(purchase.SubscriptionId, user, ct);
        }

        return purchase.SubscriptionId;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Demo data seeded: seven purchases in varied states, one awaiting approval")]
        public static partial void Seeded(ILogger logger);

        [LoggerMessage(Level = LogLevel.Information, Message = "Demo revenue history seeded: {Subscriptions} subscriptions over {Months} months in {Milliseconds} ms")]
        public static partial void HistorySeeded(ILogger logger, int subscriptions, int months, long milliseconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Demo data could not be seeded")]
        public static partial void SeedFailed(ILogger logger, Exception exception);
    }
}
