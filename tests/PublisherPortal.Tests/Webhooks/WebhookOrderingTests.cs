using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>Deliveries arrive out of order (docs/marketplace.md#ordering-and-duplicates): timeStamp decides, and
/// nothing moves the state backwards.</summary>
public sealed class WebhookOrderingTests
{
    [Fact]
    public async Task An_older_renewal_arriving_after_a_newer_change_is_recorded_as_stale_and_changes_nothing()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(receiveWebhooks: false);
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        scenario.Emulator.Options.WebhookUrl = null;
        var renewal = await scenario.Simulator.RenewAsync(subscriptionId);
        var suspension = await scenario.Simulator.SuspendAsync(subscriptionId);

        await PostAsync(scenario, portal, suspension);
        await portal.ProcessedAsync(suspension);
        await PostAsync(scenario, portal, renewal);
        var stale = await portal.ProcessedAsync(renewal);

        Assert.Equal(ProcessingStates.Stale, stale.ProcessingState);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Suspended, false), (local!.Status, local.AccessEnabled));
        var recorded = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, renewal));
        Assert.Equal((EventKinds.StaleDeliveryIgnored, "Suspended", "Suspended"), (recorded.Kind, recorded.FromStatus, recorded.ToStatus));
    }

    /// <summary>
    /// The race of issue #8 without timing luck: the Suspend's first attempt met an instance that died, so the
    /// Reinstate reached the inbox, and was applied, before the Suspend's retry. The live state must stay Subscribed;
    /// the history must still show the suspended spell where it was, because finance bills time in Suspended from it.
    /// </summary>
    [Fact]
    public async Task A_suspension_delivered_after_its_reinstatement_goes_into_history_before_it_and_leaves_the_state_alone()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(receiveWebhooks: false);
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        scenario.Emulator.Options.WebhookUrl = null;
        var suspension = await scenario.Simulator.SuspendAsync(subscriptionId);
        var reinstatement = await scenario.Simulator.ReinstateAsync(subscriptionId);

        await PostAsync(scenario, portal, reinstatement);
        Assert.Equal(ProcessingStates.Applied, (await portal.ProcessedAsync(reinstatement)).ProcessingState);
        await PostAsync(scenario, portal, suspension);
        var late = await portal.ProcessedAsync(suspension);

        Assert.Equal(ProcessingStates.Stale, late.ProcessingState);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Subscribed, true), (local!.Status, local.AccessEnabled));
        var history = await portal.Subscriptions.HistoryAsync(subscriptionId);
        Assert.Equal(
            [(EventKinds.Suspended, "Subscribed", "Suspended", suspension), (EventKinds.Reinstated, "Suspended", "Subscribed", reinstatement)],
            history.Select(e => (e.Kind, e.FromStatus, e.ToStatus, e.OperationId ?? Guid.Empty)));
        var suspendedAt = scenario.Simulator.FindOperation(suspension)!.TimeStamp!.Value;
        Assert.True(history[0].OccurredAt <= suspendedAt && history[0].OccurredAt > suspendedAt.AddMilliseconds(-1),
            $"the spell starts at the Suspend's own time {suspendedAt:O}, not at {history[0].OccurredAt:O}");

        // Delivered once more, it is a duplicate: the spell is not written twice.
        await PostAsync(scenario, portal, suspension);
        Assert.Equal(2, (await portal.Subscriptions.HistoryAsync(subscriptionId)).Count);
    }

    [Fact]
    public async Task A_suspension_delivered_after_the_cancellation_that_followed_it_goes_into_history_before_it()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(receiveWebhooks: false);
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        scenario.Emulator.Options.WebhookUrl = null;
        var suspension = await scenario.Simulator.SuspendAsync(subscriptionId);
        var unsubscription = await scenario.Simulator.UnsubscribeAsync(subscriptionId);

        await PostAsync(scenario, portal, unsubscription);
        await portal.ProcessedAsync(unsubscription);
        await PostAsync(scenario, portal, suspension);
        var late = await portal.ProcessedAsync(suspension);

        Assert.Equal(ProcessingStates.Stale, late.ProcessingState);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Unsubscribed, false), (local!.Status, local.AccessEnabled));
        Assert.Equal(
            [(EventKinds.Suspended, "Subscribed", "Suspended"), (EventKinds.Unsubscribed, "Suspended", "Unsubscribed")],
            (await portal.Subscriptions.HistoryAsync(subscriptionId)).Select(e => (e.Kind, e.FromStatus, e.ToStatus)));
    }

    [Fact]
    public async Task Deliveries_waiting_in_the_inbox_are_applied_in_timestamp_order_whatever_order_they_arrived_in()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var door = await scenario.StartPortalAsync(new Dictionary<string, string?> { ["RunProcessor"] = "false" }, receiveWebhooks: false);
        var subscriptionId = await door.ActiveSubscriptionAsync(scenario.Emulator);
        scenario.Emulator.Options.WebhookUrl = null;
        var renewal = await scenario.Simulator.RenewAsync(subscriptionId);
        var suspension = await scenario.Simulator.SuspendAsync(subscriptionId);
        var unsubscription = await scenario.Simulator.UnsubscribeAsync(subscriptionId);
        foreach (var operation in new[] { unsubscription, renewal, suspension })
        {
            await PostAsync(scenario, door, operation);
        }

        var worker = await scenario.StartPortalAsync(receiveWebhooks: false);
        foreach (var operation in new[] { renewal, suspension, unsubscription })
        {
            Assert.Equal(ProcessingStates.Applied, (await worker.ProcessedAsync(operation)).ProcessingState);
        }

        var history = (await worker.Subscriptions.HistoryAsync(subscriptionId)).Where(e => e.Source == EventSources.Marketplace).ToList();
        Assert.Equal([EventKinds.Renewed, EventKinds.Suspended, EventKinds.Unsubscribed], history.Select(e => e.Kind));
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await worker.Subscriptions.FindAsync(subscriptionId))!.Status);
    }

    private static async Task PostAsync(WebhookScenario scenario, WebhookTestHost portal, Guid operationId)
    {
        using var answer = await portal.PostAsync(WebhookTestHost.DeliveryBody(scenario.Emulator, operationId), $"Bearer {await scenario.Simulator.MintWebhookTokenAsync()}");
        answer.EnsureSuccessStatusCode();
    }
}
