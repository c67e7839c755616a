using Dapper;
using Marketplace.Emulator;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Webhooks;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Offers;

/// <summary>
/// Each change rule of an offer against the emulator's signed ChangePlan/ChangeQuantity webhooks over loopback: a change
/// the rules refuse is answered Failure inside the 10-second window (docs/marketplace.md#answering-deliveries),
/// changes nothing, and the history names the rule.
/// </summary>
public sealed class ChangeRuleWebhookTests
{
    private const string Offer = EmulatorCatalogue.InsightsOffer;

    [Fact]
    public async Task An_offer_that_accepts_no_changes_refuses_a_seat_change_within_the_window()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        await OffersHosting.SaveAsync(scenario.Database, OfferPolicy.DefaultFor(Offer) with { AcceptChanges = false });
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 8);

        await AssertRefusedInTimeAsync(scenario, portal, subscriptionId, operationId, "rule 'changes accepted: no'");
        Assert.Equal(5, scenario.Simulator.Find(subscriptionId)!.Quantity);
        Assert.Equal(5, (await portal.Subscriptions.FindAsync(subscriptionId))!.Quantity);
    }

    [Fact]
    public async Task A_plan_move_outside_the_allowed_pairs_is_refused_and_names_the_rule()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        await OffersHosting.SaveAsync(scenario.Database, OfferPolicy.DefaultFor(Offer) with { AllowedPlanMoves = [new PlanMove("team", "business")] });
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangePlanAsync(subscriptionId, "starter");

        var refusal = await AssertRefusedInTimeAsync(scenario, portal, subscriptionId, operationId, "rule 'allowed plan moves'");
        Assert.Contains("team → starter", refusal.Detail);
        Assert.Equal("team", scenario.Simulator.Find(subscriptionId)!.PlanId);
        Assert.Equal("team", (await portal.Subscriptions.FindAsync(subscriptionId))!.PlanId);
    }

    [Fact]
    public async Task A_plan_move_among_the_allowed_pairs_is_accepted()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        await OffersHosting.SaveAsync(scenario.Database, OfferPolicy.DefaultFor(Offer) with { AllowedPlanMoves = [new PlanMove("team", "business")] });
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangePlanAsync(subscriptionId, "business");

        Assert.Equal("Success", Assert.Single(await AcknowledgedAsync(scenario, portal, operationId)).Status);
        Assert.Equal("business", (await portal.Subscriptions.FindAsync(subscriptionId))!.PlanId);
        Assert.Equal(EventKinds.PlanChanged, Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId)).Kind);
    }

    [Fact]
    public async Task Seats_below_a_fixed_minimum_are_refused_and_seats_at_it_accepted()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        await OffersHosting.SaveAsync(scenario.Database, OfferPolicy.DefaultFor(Offer) with { MinimumSeats = MinimumSeatsRule.Fixed, MinimumSeatsFixed = 6 });
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 10);

        var below = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 5);
        await AssertRefusedInTimeAsync(scenario, portal, subscriptionId, below, "rule 'minimum seats: 6'");
        Assert.Equal(10, scenario.Simulator.Find(subscriptionId)!.Quantity);

        var atMinimum = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 6);
        Assert.Equal("Success", Assert.Single(await AcknowledgedAsync(scenario, portal, atMinimum)).Status);
        Assert.Equal(6, (await portal.Subscriptions.FindAsync(subscriptionId))!.Quantity);
    }

    [Fact]
    public async Task Seats_below_the_seats_in_use_recorded_by_the_account_configuration_are_refused()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        await OffersHosting.SaveAsync(scenario.Database, OfferPolicy.DefaultFor(Offer) with
        {
            MinimumSeats = MinimumSeatsRule.SeatsInUse,
            CustomFields = [CustomField.SeatsInUse()],
        });
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 10);
        await using (var connection = await scenario.Database.OpenAsync())
        {
            // What the wizard stores when the customer answers "seats in use: 7".
            await connection.ExecuteAsync("UPDATE subscriptions SET account_settings = @settings WHERE id = @id",
                new { id = subscriptionId, settings = """{"DataRegion":"westeurope","Fields":{"seats-in-use":"7"}}""" });
        }

        var operationId = await scenario.Simulator.ChangeQuantityAsync(subscriptionId, 6);

        var refusal = await AssertRefusedInTimeAsync(scenario, portal, subscriptionId, operationId, "rule 'minimum seats: seats in use'");
        Assert.Contains("below the 7 seats in use", refusal.Detail);
        Assert.Equal(10, scenario.Simulator.Find(subscriptionId)!.Quantity);
    }

    [Fact]
    public async Task A_plan_change_that_would_leave_fewer_seats_than_the_fixed_minimum_is_refused()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync();
        await OffersHosting.SaveAsync(scenario.Database, OfferPolicy.DefaultFor(Offer) with { MinimumSeats = MinimumSeatsRule.Fixed, MinimumSeatsFixed = 8 });
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangePlanAsync(subscriptionId, "business");

        await AssertRefusedInTimeAsync(scenario, portal, subscriptionId, operationId, "rule 'minimum seats: 8'");
        Assert.Equal("team", scenario.Simulator.Find(subscriptionId)!.PlanId);
    }

    /// <summary>
    /// The marketplace got exactly one Failure, before it would have accepted the change by itself, the operation failed
    /// there, and our history holds one ChangeRefused naming <paramref name="rule"/> beside a Failure acknowledgement.
    /// </summary>
    private static async Task<SubscriptionEvent> AssertRefusedInTimeAsync(
        WebhookScenario scenario, WebhookTestHost portal, Guid subscriptionId, Guid operationId, string rule)
    {
        var update = Assert.Single(await AcknowledgedAsync(scenario, portal, operationId));
        Assert.Equal(("Failure", 200), (update.Status, update.AnsweredStatusCode));
        var delivered = scenario.Simulator.DeliveriesFor(operationId)[0].At;
        Assert.True(update.ReceivedAt - delivered < TimeSpan.FromSeconds(10), $"refused {update.ReceivedAt - delivered} after delivery");
        Assert.Equal(OperationStatus.Failed, scenario.Simulator.FindOperation(operationId)!.Status);

        var ack = await portal.AcknowledgementAsync(operationId);
        Assert.Equal((AcknowledgementAnswers.Failure, AcknowledgementStates.Sent), (ack!.Answer, ack.State));
        Assert.True(ack.SentAt <= ack.DueBy, $"sent at {ack.SentAt:O}, due by {ack.DueBy:O}");
        Assert.Contains(rule, ack.Reason);

        var refusal = Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
        Assert.Equal(EventKinds.ChangeRefused, refusal.Kind);
        Assert.Contains(rule, refusal.Detail);
        return refusal;
    }

    private static async Task<IReadOnlyList<StatusUpdateReceived>> AcknowledgedAsync(
        WebhookScenario scenario, WebhookTestHost portal, Guid operationId)
    {
        await Eventually.HoldsAsync(() => Task.FromResult(scenario.Simulator.StatusUpdatesFor(operationId)), u => u.Count > 0, $"a PATCH for {operationId}");
        await portal.DrainAsync();
        return scenario.Simulator.StatusUpdatesFor(operationId);
    }
}
