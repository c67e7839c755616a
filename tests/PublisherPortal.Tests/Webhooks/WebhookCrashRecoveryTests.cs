using Marketplace.Emulator;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>
/// A crash at each step, simulated by stopping one instance and starting another over the same database file:
/// every change is applied exactly once and acknowledged exactly once (counted by the emulator).
/// </summary>
public sealed class WebhookCrashRecoveryTests
{
    private static readonly Dictionary<string, string?> InboxOnly = new() { ["RunProcessor"] = "false", ["RunAcknowledgementSender"] = "false" };
    private static readonly Dictionary<string, string?> NoSender = new() { ["RunAcknowledgementSender"] = "false" };

    [Fact]
    public async Task A_crash_between_inbox_and_processing_loses_nothing_and_applies_once()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var before = await scenario.StartPortalAsync(InboxOnly);
        var subscriptionId = await before.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);
        var operationId = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 9);
        await Eventually.HoldsAsync(before.DeliveriesAsync, d => d.Any(x => x.OperationId == operationId), "delivery in the inbox");
        await scenario.StopAsync(before);

        var after = await scenario.StartPortalAsync();

        await after.ProcessedAsync(operationId);
        await AssertAppliedAndAcknowledgedOnceAsync(scenario, after, subscriptionId, operationId);
        Assert.Equal(9, (await after.Subscriptions.FindAsync(subscriptionId))!.Quantity);
    }

    [Fact]
    public async Task A_crash_between_processing_and_the_PATCH_sends_it_once_after_restart()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var before = await scenario.StartPortalAsync(NoSender);
        var subscriptionId = await before.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);
        var operationId = await scenario.Simulator.ChangePlanAsync(subscriptionId, "business");
        await before.ProcessedAsync(operationId);
        Assert.Equal(AcknowledgementStates.Pending, (await before.AcknowledgementAsync(operationId))!.State);
        Assert.Empty(scenario.Simulator.StatusUpdatesFor(operationId));
        await scenario.StopAsync(before);

        var after = await scenario.StartPortalAsync();

        await Eventually.HoldsAsync(() => after.AcknowledgementAsync(operationId), a => a!.State == AcknowledgementStates.Sent, "acknowledgement sent");
        await AssertAppliedAndAcknowledgedOnceAsync(scenario, after, subscriptionId, operationId);
    }

    [Fact]
    public async Task A_delivery_claimed_by_an_instance_that_died_is_taken_over_when_its_lease_runs_out()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var before = await scenario.StartPortalAsync(InboxOnly);
        var subscriptionId = await before.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);
        var operationId = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 7);
        await Eventually.HoldsAsync(before.DeliveriesAsync, d => d.Any(x => x.OperationId == operationId), "delivery in the inbox");
        // The dead instance claimed it for 2 seconds and never came back.
        var now = DateTimeOffset.UtcNow;
        var claimed = await before.Services.GetRequiredService<WebhookDeliveryStore>().ClaimDueAsync("dead-instance", now, now.AddSeconds(2), 10);
        Assert.Single(claimed);
        await scenario.StopAsync(before);

        var after = await scenario.StartPortalAsync();

        Assert.Equal(ProcessingStates.Applied, (await after.ProcessedAsync(operationId)).ProcessingState);
        await AssertAppliedAndAcknowledgedOnceAsync(scenario, after, subscriptionId, operationId);
    }

    [Fact]
    public async Task Two_instances_sharing_one_inbox_apply_and_acknowledge_every_change_once()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var first = await scenario.StartPortalAsync();
        var second = await scenario.StartPortalAsync(receiveWebhooks: false);
        var subscriptions = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            subscriptions.Add(await first.ActiveSubscriptionAsync(scenario.Emulator, "team", 5));
        }

        var operations = new List<(Guid Subscription, Guid Operation)>();
        foreach (var subscriptionId in subscriptions)
        {
            operations.Add((subscriptionId, await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 6)));
        }

        foreach (var (subscriptionId, operationId) in operations)
        {
            await Eventually.HoldsAsync(() => second.AcknowledgementAsync(operationId), a => a?.State == AcknowledgementStates.Sent, "acknowledgement sent");
            await AssertAppliedAndAcknowledgedOnceAsync(scenario, second, subscriptionId, operationId);
        }
    }

    internal static async Task AssertAppliedAndAcknowledgedOnceAsync(WebhookScenario scenario, WebhookTestHost portal, Guid subscriptionId, Guid operationId)
    {
        await Eventually.HoldsAsync(() => Task.FromResult(scenario.Simulator.StatusUpdatesFor(operationId)), u => u.Count > 0, "the PATCH");
        await portal.DrainAsync();
        var update = Assert.Single(scenario.Simulator.StatusUpdatesFor(operationId));
        Assert.Equal(("Success", 200), (update.Status, update.AnsweredStatusCode));
        Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
    }
}

/// <summary>The emulator answers 30% of API calls with 429 or 500: every acknowledgement still arrives, none twice.</summary>
public sealed class WebhookFaultToleranceTests
{
    [Fact]
    public async Task With_30_percent_failures_every_acknowledgement_arrives_exactly_once()
    {
        await using var scenario = await WebhookScenario.StartAsync(o => o.AutoAcceptAfter = TimeSpan.FromMinutes(5));
        var portal = await scenario.StartPortalAsync();
        var subscriptions = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            subscriptions.Add(await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5));
        }

        scenario.Emulator.Faults.FailureRate = 0.3;
        var operations = new List<(Guid Subscription, Guid Operation)>();
        for (var i = 0; i < subscriptions.Count; i++)
        {
            var subscriptionId = subscriptions[i];
            operations.Add((subscriptionId, i % 2 == 0
                ? await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 10)
                : await scenario.Simulator.ChangePlanAsync(subscriptionId, "business")));
        }

        foreach (var (_, operationId) in operations)
        {
            await Eventually.HoldsAsync(() => portal.AcknowledgementAsync(operationId), a => a?.State == AcknowledgementStates.Sent,
                $"acknowledgement of {operationId} sent", TimeSpan.FromSeconds(60));
        }

        scenario.Emulator.Faults.FailureRate = 0;
        foreach (var (subscriptionId, operationId) in operations)
        {
            await WebhookCrashRecoveryTests.AssertAppliedAndAcknowledgedOnceAsync(scenario, portal, subscriptionId, operationId);
            Assert.Equal(Marketplace.Models.OperationStatus.Succeeded, scenario.Simulator.FindOperation(operationId)!.Status);
        }
    }
}
