using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>Every action end to end: the emulator's simulated customer or Microsoft acts, delivers a signed webhook over loopback, the portal applies and answers.</summary>
public sealed class WebhookActionTests
{
    private sealed class FixedSeatUsage(int seats) : ISeatUsage
    {
        public Task<int?> SeatsInUseAsync(Guid subscriptionId, CancellationToken ct = default) => Task.FromResult<int?>(seats);
    }

    [Fact]
    public async Task A_customer_plan_change_is_applied_and_acknowledged_Success_once_within_10_seconds()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangePlanAsync(subscriptionId, "business");

        var update = Assert.Single(await AcknowledgedAsync(scenario, portal, operationId));
        Assert.Equal(("Success", 200), (update.Status, update.AnsweredStatusCode));
        var firstDelivery = scenario.Simulator.DeliveriesFor(operationId)[0];
        Assert.True(update.ReceivedAt - firstDelivery.At < TimeSpan.FromSeconds(10), $"acknowledged {update.ReceivedAt - firstDelivery.At} after delivery");
        Assert.Equal(OperationStatus.Succeeded, scenario.Simulator.FindOperation(operationId)!.Status);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal("business", local!.PlanId);
        var change = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
        Assert.Equal((EventKinds.PlanChanged, EventSources.Marketplace, "team", "business"), (change.Kind, change.Source, change.FromPlan, change.ToPlan));
    }

    [Fact]
    public async Task A_plan_change_to_a_plan_outside_our_catalogue_is_refused_with_Failure_and_changes_nothing()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        await portal.SeedPlanAsync(EmulatorCatalogue.InsightsOffer, "starter", perSeat: false);
        await portal.SeedPlanAsync(EmulatorCatalogue.InsightsOffer, "team", perSeat: true, 1, 50);
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangePlanAsync(subscriptionId, "business");

        var update = Assert.Single(await AcknowledgedAsync(scenario, portal, operationId));
        Assert.Equal("Failure", update.Status);
        Assert.Equal(OperationStatus.Failed, scenario.Simulator.FindOperation(operationId)!.Status);
        Assert.Equal("team", scenario.Simulator.Find(subscriptionId)!.PlanId);
        Assert.Equal("team", (await portal.Subscriptions.FindAsync(subscriptionId))!.PlanId);
        var refusal = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
        Assert.Equal(EventKinds.ChangeRefused, refusal.Kind);
        Assert.Contains("not in our catalogue", refusal.Detail);
        var ack = await portal.AcknowledgementAsync(operationId);
        Assert.Equal((AcknowledgementAnswers.Failure, AcknowledgementStates.Sent), (ack!.Answer, ack.State));
    }

    [Fact]
    public async Task A_customer_seat_change_is_applied_and_acknowledged_Success()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 8);

        Assert.Equal("Success", Assert.Single(await AcknowledgedAsync(scenario, portal, operationId)).Status);
        Assert.Equal(8, (await portal.Subscriptions.FindAsync(subscriptionId))!.Quantity);
        Assert.Equal(8, scenario.Simulator.Find(subscriptionId)!.Quantity);
        var change = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
        Assert.Equal((EventKinds.QuantityChanged, 5, 8), (change.Kind, change.FromQuantity, change.ToQuantity));
    }

    [Fact]
    public async Task Seats_below_what_the_account_uses_are_refused_with_Failure()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(services: s => s.AddSingleton<ISeatUsage>(new FixedSeatUsage(7)));
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 10);

        var operationId = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 3);

        Assert.Equal("Failure", Assert.Single(await AcknowledgedAsync(scenario, portal, operationId)).Status);
        Assert.Equal(10, scenario.Simulator.Find(subscriptionId)!.Quantity);
        Assert.Equal(10, (await portal.Subscriptions.FindAsync(subscriptionId))!.Quantity);
        var refusal = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
        Assert.Contains("below the 7 seats the account uses", refusal.Detail);
    }

    [Fact]
    public async Task A_renewal_records_the_new_term_and_needs_no_acknowledgement()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        var before = (await portal.Subscriptions.FindAsync(subscriptionId))!.TermEnd;

        var operationId = await scenario.Simulator.RenewAsync(subscriptionId);

        Assert.Equal(ProcessingStates.Applied, (await portal.ProcessedAsync(operationId)).ProcessingState);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        // PostgreSQL keeps microseconds, the emulator ticks: compare to the millisecond.
        Assert.Equal(scenario.Simulator.Find(subscriptionId)!.Term!.EndDate!.Value.ToUnixTimeMilliseconds(), local!.TermEnd!.Value.ToUnixTimeMilliseconds());
        Assert.True(local.TermEnd > before);
        Assert.Equal(EventKinds.Renewed, Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId)).Kind);
        Assert.Empty(scenario.Simulator.StatusUpdatesFor(operationId));
    }

    [Fact]
    public async Task A_suspension_removes_access_and_a_reinstatement_restores_it_and_is_acknowledged()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);

        var suspension = await scenario.Simulator.SuspendAsync(subscriptionId);
        await portal.ProcessedAsync(suspension);
        var suspended = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Suspended, false), (suspended!.Status, suspended.AccessEnabled));
        Assert.Empty(scenario.Simulator.StatusUpdatesFor(suspension));

        var reinstatement = await scenario.Simulator.ReinstateAsync(subscriptionId);

        Assert.Equal("Success", Assert.Single(await AcknowledgedAsync(scenario, portal, reinstatement)).Status);
        var reinstated = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Subscribed, true), (reinstated!.Status, reinstated.AccessEnabled));
        Assert.Equal(SubscriptionStatus.Subscribed, scenario.Simulator.Find(subscriptionId)!.SaasSubscriptionStatus);
        Assert.Equal(EventKinds.Reinstated, Assert.Single(await portal.EventsForOperationAsync(subscriptionId, reinstatement)).Kind);
    }

    [Fact]
    public async Task A_reinstatement_we_cannot_accept_is_answered_with_a_cancellation()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        await portal.ProcessedAsync(await scenario.Simulator.SuspendAsync(subscriptionId));
        // Ended on our side (say an operator closed the account) while the marketplace still has it suspended.
        await portal.Subscriptions.ApplyChangeAsync(new SubscriptionChange(subscriptionId, EventKinds.Unsubscribed, EventSources.Operator, "olivia")
        {
            Status = SubscriptionStatus.Unsubscribed,
            AccessEnabled = false,
        });

        var reinstatement = await scenario.Simulator.ReinstateAsync(subscriptionId);

        await Eventually.HoldsAsync(() => Task.FromResult(scenario.Simulator.Find(subscriptionId)!.SaasSubscriptionStatus),
            s => s == SubscriptionStatus.Unsubscribed, "the marketplace subscription cancelled");
        var ack = await Eventually.HoldsAsync(() => portal.AcknowledgementAsync(reinstatement), a => a?.State == AcknowledgementStates.Sent, "cancellation sent");
        Assert.Equal(AcknowledgementAnswers.Cancel, ack!.Answer);
        Assert.Empty(scenario.Simulator.StatusUpdatesFor(reinstatement));
        Assert.False((await portal.Subscriptions.FindAsync(subscriptionId))!.AccessEnabled);
        Assert.Equal(EventKinds.ChangeRefused, Assert.Single(await portal.EventsForOperationAsync(subscriptionId, reinstatement)).Kind);
    }

    [Fact]
    public async Task An_unsubscription_ends_access()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);

        var operationId = await scenario.Simulator.UnsubscribeAsync(subscriptionId);

        Assert.Equal(ProcessingStates.Applied, (await portal.ProcessedAsync(operationId)).ProcessingState);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Unsubscribed, false), (local!.Status, local.AccessEnabled));
        var ended = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
        Assert.Equal((EventKinds.Unsubscribed, EventSources.Marketplace, "Subscribed", "Unsubscribed"), (ended.Kind, ended.Source, ended.FromStatus, ended.ToStatus));
    }

    [Fact]
    public async Task A_delivery_for_a_subscription_we_never_saw_records_it_first_then_applies()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, recordHere: false);

        var operationId = await scenario.Simulator.SuspendAsync(subscriptionId);

        Assert.Equal(ProcessingStates.Applied, (await portal.ProcessedAsync(operationId)).ProcessingState);
        var local = await portal.Subscriptions.FindAsync(subscriptionId);
        Assert.Equal((SubscriptionStatus.Suspended, false), (local!.Status, local.AccessEnabled));
    }

    [Fact]
    public async Task Subscribe_and_unknown_actions_are_stored_and_shown_but_never_acted_on()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(receiveWebhooks: false);
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        var before = await portal.Subscriptions.FindAsync(subscriptionId);
        var transfer = Guid.NewGuid();
        var subscribe = Guid.NewGuid();

        foreach (var (id, action) in new[] { (transfer, "Transfer"), (subscribe, "Subscribe") })
        {
            var body = $$"""{"id":"{{id}}","subscriptionId":"{{subscriptionId}}","action":"{{action}}","status":"Succeeded","timeStamp":"2026-11-25T10:00:00Z"}""";
            using var answer = await portal.PostAsync(body, $"Bearer {await scenario.Simulator.MintWebhookTokenAsync()}");
            Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
        }

        Assert.Equal(ProcessingStates.Ignored, (await portal.ProcessedAsync(transfer)).ProcessingState);
        Assert.Equal(ProcessingStates.Ignored, (await portal.ProcessedAsync(subscribe)).ProcessingState);
        Assert.Equal(before, await portal.Subscriptions.FindAsync(subscriptionId));
        Assert.Null(await portal.AcknowledgementAsync(transfer));
    }

    private static async Task<IReadOnlyList<StatusUpdateReceived>> AcknowledgedAsync(
        WebhookScenario scenario, WebhookTestHost portal, Guid operationId)
    {
        await Eventually.HoldsAsync(() => Task.FromResult(scenario.Simulator.StatusUpdatesFor(operationId)), u => u.Count > 0, $"a PATCH for {operationId}");
        await portal.DrainAsync();
        return scenario.Simulator.StatusUpdatesFor(operationId);
    }
}
