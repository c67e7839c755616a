using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>Deliveries arrive out of order (contract §5): timeStamp decides, and nothing moves the state backwards.</summary>
public sealed class WebhookOrderingTests
{
    [Fact]
    public async Task An_older_delivery_arriving_after_a_newer_one_is_recorded_as_stale_and_changes_nothing()
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
        var stale = await portal.ProcessedAsync(suspension);

        Assert.Equal(ProcessingStates.Stale, stale.ProcessingState);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Unsubscribed, false), (local!.Status, local.AccessEnabled));
        var recorded = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, suspension));
        Assert.Equal((EventKinds.StaleDeliveryIgnored, "Unsubscribed", "Unsubscribed"), (recorded.Kind, recorded.FromStatus, recorded.ToStatus));
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
