using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Support;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>Our own operations, followed from their Operation-Location until the marketplace ends them.</summary>
public sealed class OperationTrackerTests
{
    private static readonly CurrentUser Olivia = new("olivia-oid", "publisher-tenant", "olivia@publisher.example", "Olivia Operator");

    [Fact]
    public async Task Our_plan_change_is_applied_only_once_the_marketplace_says_it_succeeded_and_is_never_acknowledged()
    {
        await using var scenario = await WebhookScenario.StartAsync(o => o.OperationDelay = TimeSpan.FromSeconds(1));
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);
        using var scope = portal.Services.CreateScope();
        var changes = scope.ServiceProvider.GetRequiredService<SubscriptionChangeService>();

        var started = Assert.IsType<ChangeRequestResult.Started>(
            await changes.RequestPlanChangeAsync(subscriptionId, "business", Olivia, EventSources.Operator));
        Assert.Equal("team", (await portal.Subscriptions.FindAsync(subscriptionId))!.PlanId);
        var second = await changes.RequestQuantityChangeAsync(subscriptionId, 9, Olivia, EventSources.Operator);

        Assert.IsType<ChangeRequestResult.AlreadyPending>(second);
        var operations = portal.Services.GetRequiredService<OperationStore>();
        var done = await Eventually.HoldsAsync(() => operations.FindAsync(started.Operation.Id), o => !o!.IsPending, "operation ended");
        Assert.Equal(OperationStates.Succeeded, done!.Status);
        Assert.Equal("business", (await portal.Subscriptions.FindAsync(subscriptionId))!.PlanId);
        var change = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, started.Operation.Id));
        Assert.Equal((EventKinds.PlanChanged, EventSources.Operator, "olivia@publisher.example"), (change.Kind, change.Source, change.Actor));
        Assert.Empty(scenario.Simulator.StatusUpdatesFor(started.Operation.Id));
    }

    [Fact]
    public async Task Our_move_from_a_flat_rate_plan_to_a_per_seat_plan_records_the_seats_the_marketplace_bills()
    {
        // Found by the model-based test (Model/BillingModelTests): starter (flat) -> business (5..500 seats) left the
        // portal with no seat count while the marketplace billed its minimum of 5.
        await using var scenario = await WebhookScenario.StartAsync(o => o.OperationDelay = TimeSpan.Zero);
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "starter", null);
        using var scope = portal.Services.CreateScope();

        var started = Assert.IsType<ChangeRequestResult.Started>(await scope.ServiceProvider.GetRequiredService<SubscriptionChangeService>()
            .RequestPlanChangeAsync(subscriptionId, "business", Olivia, EventSources.Operator));

        var local = await Eventually.HoldsAsync(() => portal.Subscriptions.FindAsync(subscriptionId), s => s!.PlanId == "business", "plan changed");
        Assert.Equal(scenario.Simulator.Find(subscriptionId)!.Quantity, local!.Quantity);
        Assert.Equal(5, local.Quantity);
        var change = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, started.Operation.Id));
        Assert.Equal((null, 5), (change.FromQuantity, change.ToQuantity));
    }

    [Fact]
    public async Task Our_cancellation_ends_the_subscription_when_it_succeeds()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        using var scope = portal.Services.CreateScope();

        var started = Assert.IsType<ChangeRequestResult.Started>(await scope.ServiceProvider.GetRequiredService<SubscriptionChangeService>()
            .RequestCancellationAsync(subscriptionId, Olivia, EventSources.Operator));

        var local = await Eventually.HoldsAsync(() => portal.Subscriptions.FindAsync(subscriptionId), s => s!.Status == SubscriptionStatus.Unsubscribed, "unsubscribed");
        Assert.False(local!.AccessEnabled);
        Assert.Equal(EventKinds.Unsubscribed, Assert.Single(await portal.EventsForOperationAsync(subscriptionId, started.Operation.Id)).Kind);
    }

    [Fact]
    public async Task An_operation_that_never_ends_is_marked_timed_out_and_changes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync();
        var (tracker, operations, subscriptions, polls) = await TrackerOverAsync(db, OperationStatus.InProgress);
        var operation = await StartedAsync(db, subscriptions, operations, nextPollIn: TimeSpan.Zero);

        await tracker.PollDueAsync();
        var waiting = await operations.FindAsync(operation.Id);
        Assert.Equal((OperationStates.InProgress, 1), (waiting!.Status, waiting.PollCount));
        Assert.True(waiting.NextPollAt > db.Time.GetUtcNow(), "the next poll is later");

        db.Time.Advance(TimeSpan.FromMinutes(61));
        await tracker.PollDueAsync();

        var ended = await operations.FindAsync(operation.Id);
        Assert.Equal(OperationStates.TimedOut, ended!.Status);
        Assert.Contains("still not finished", ended.ErrorMessage);
        Assert.Equal("team", (await subscriptions.FindAsync(operation.SubscriptionId))!.PlanId);
        Assert.Equal(2, polls.Count);
    }

    [Fact]
    public async Task Check_now_polls_at_once_and_applies_a_success()
    {
        await using var db = await TestDatabase.CreateAsync();
        var (tracker, operations, subscriptions, polls) = await TrackerOverAsync(db, OperationStatus.Succeeded);
        var operation = await StartedAsync(db, subscriptions, operations, nextPollIn: TimeSpan.FromMinutes(10));
        Assert.Equal(0, await tracker.PollDueAsync());

        var checkedNow = await tracker.CheckNowAsync(operation.Id);

        Assert.Equal(OperationStates.Succeeded, checkedNow!.Status);
        Assert.Equal("business", (await subscriptions.FindAsync(operation.SubscriptionId))!.PlanId);
        Assert.Single(polls);
        Assert.Equal(OperationStates.Succeeded, (await tracker.CheckNowAsync(operation.Id))!.Status);
        Assert.Single(polls);
    }

    private static async Task<(OperationTracker, OperationStore, SubscriptionStore, List<Guid>)> TrackerOverAsync(TestDatabase db, OperationStatus answer)
    {
        var polls = new List<Guid>();
        var marketplace = new ScriptedMarketplace
        {
            OnGetOperation = (subscriptionId, operationId) =>
            {
                polls.Add(operationId);
                return Task.FromResult(new MarketplaceOperation { Id = operationId, SubscriptionId = subscriptionId, Action = "ChangePlan", PlanId = "business", Status = answer });
            },
        };
        var operations = new OperationStore(db.Database);
        var subscriptions = new SubscriptionStore(db.Database, db.Time);
        var tracker = new OperationTracker(operations, subscriptions, marketplace, db.Database, new WorkSignals(), new WorkerIdentity(),
            Options.Create(new WebhooksOptions { OperationTimeout = TimeSpan.FromHours(1) }), db.Time, NullLogger<OperationTracker>.Instance);
        return (tracker, operations, subscriptions, polls);
    }

    private static async Task<OperationRecord> StartedAsync(TestDatabase db, SubscriptionStore subscriptions, OperationStore operations, TimeSpan nextPollIn)
    {
        var subscription = Samples.Subscription(status: SubscriptionStatus.Subscribed);
        var now = db.Time.GetUtcNow();
        var operation = new OperationRecord
        {
            Id = Guid.NewGuid(),
            SubscriptionId = subscription.Id,
            Action = "ChangePlan",
            RequestedPlanId = "business",
            Source = EventSources.Operator,
            RequestedBy = "olivia@publisher.example",
            RequestedAt = now,
            Location = "https://marketplace.example/operations/x",
            CorrelationId = Guid.NewGuid(),
            NextPollAt = now + nextPollIn,
        };
        await using var connection = await db.Database.OpenAsync();
        await using var tx = await db.Database.BeginWriteAsync(connection);
        await subscriptions.RecordFromMarketplaceAsync(subscription, connection, tx);
        Assert.True(await operations.TryRecordStartedAsync(operation, connection, tx));
        await tx.CommitAsync();
        return operation;
    }
}
