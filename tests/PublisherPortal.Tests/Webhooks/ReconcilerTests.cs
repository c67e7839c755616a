using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>Drift between the marketplace and us, found on every page of the listing and corrected with history.</summary>
public sealed class ReconcilerTests
{
    [Fact]
    public async Task A_run_reads_every_page_adds_unknown_subscriptions_corrects_drift_and_stores_its_summary()
    {
        await using var scenario = await WebhookScenario.StartAsync(o => o.PageSize = 2);
        var portal = await scenario.StartPortalAsync(receiveWebhooks: false);
        var inSync = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        var unknownA = await portal.ActiveSubscriptionAsync(scenario.Emulator, recordHere: false);
        var unknownB = await portal.ActiveSubscriptionAsync(scenario.Emulator, recordHere: false);
        var lostWebhook = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        var wrongSeats = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);
        scenario.Emulator.Options.WebhookUrl = null;
        await scenario.Simulator.SuspendAsync(lostWebhook);
        await portal.Subscriptions.ApplyChangeAsync(new SubscriptionChange(wrongSeats, EventKinds.QuantityChanged, EventSources.Operator, "olivia") { Quantity = 12 });

        var summary = await portal.Reconciler.RunAsync();

        Assert.Equal(new ReconciliationSummary(Checked: 5, Corrected: 2, Added: 2, Skipped: 0, Failed: 0), summary);
        var suspended = await portal.Subscriptions.FindAsync(lostWebhook);
        Assert.Equal((SubscriptionStatus.Suspended, false), (suspended!.Status, suspended.AccessEnabled));
        var correction = (await portal.Subscriptions.HistoryAsync(lostWebhook)).Last();
        Assert.Equal((EventKinds.StatusCorrected, EventSources.Reconciliation, "Subscribed", "Suspended"), (correction.Kind, correction.Source, correction.FromStatus, correction.ToStatus));
        var seats = (await portal.Subscriptions.HistoryAsync(wrongSeats)).Last();
        Assert.Equal((EventKinds.QuantityChanged, EventSources.Reconciliation, 12, 5), (seats.Kind, seats.Source, seats.FromQuantity, seats.ToQuantity));
        Assert.NotNull(await portal.Subscriptions.FindAsync(unknownA));
        Assert.Equal(EventSources.Reconciliation, Assert.Single(await portal.Subscriptions.HistoryAsync(unknownB)).Source);
        Assert.Empty(await portal.Subscriptions.HistoryAsync(inSync));
        var last = await portal.Reconciler.LastRunAsync();
        Assert.Equal(("Completed", 5, 2, 2), (last!.Outcome, last.Checked, last.Corrected, last.Added));

        Assert.Equal(new ReconciliationSummary(5, 0, 0, 0, 0), await portal.Reconciler.RunAsync());
    }

    [Fact]
    public async Task Sync_now_corrects_one_subscription_and_leaves_one_with_a_change_in_flight_alone()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(new Dictionary<string, string?> { ["RunProcessor"] = "false" });
        var drifted = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);
        var inFlight = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);
        await portal.Subscriptions.ApplyChangeAsync(new SubscriptionChange(drifted, EventKinds.PlanChanged, EventSources.Operator, "olivia") { PlanId = "starter" });
        var pendingDelivery = await scenario.Simulator.SuspendAsync(inFlight);
        await Eventually.HoldsAsync(portal.DeliveriesAsync, d => d.Any(x => x.OperationId == pendingDelivery), "delivery waiting in the inbox");

        Assert.Equal(SyncOutcome.Corrected, await portal.Reconciler.SyncSubscriptionAsync(drifted));
        Assert.Equal(SyncOutcome.InSync, await portal.Reconciler.SyncSubscriptionAsync(drifted));
        Assert.Equal(SyncOutcome.Skipped, await portal.Reconciler.SyncSubscriptionAsync(inFlight));
        Assert.Equal(SyncOutcome.Failed, await portal.Reconciler.SyncSubscriptionAsync(Guid.NewGuid()));
        Assert.Equal("team", (await portal.Subscriptions.FindAsync(drifted))!.PlanId);
        Assert.Equal(SubscriptionStatus.Subscribed, (await portal.Subscriptions.FindAsync(inFlight))!.Status);
    }

    [Fact]
    public async Task The_scheduled_job_lease_is_held_by_one_instance_until_it_runs_out()
    {
        await using var db = await TestDatabase.CreateAsync();
        var leases = new JobLeaseStore(db.Database);
        var now = db.Time.GetUtcNow();

        Assert.True(await leases.TryAcquireAsync("reconciliation", "a", now, now.AddMinutes(50)));
        Assert.False(await leases.TryAcquireAsync("reconciliation", "b", now, now.AddMinutes(50)));
        Assert.True(await leases.TryAcquireAsync("reconciliation", "a", now, now.AddMinutes(50)));
        Assert.True(await leases.TryAcquireAsync("reconciliation", "b", now.AddMinutes(51), now.AddMinutes(101)));
        Assert.False(await leases.TryAcquireAsync("reconciliation", "a", now.AddMinutes(52), now.AddMinutes(102)));
    }
}
