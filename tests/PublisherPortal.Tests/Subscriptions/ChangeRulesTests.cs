using Marketplace.Emulator;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Offers;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Console;
using PublisherPortal.Tests.Offers;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Subscriptions;

/// <summary>
/// The one decision (<see cref="ChangeRules"/>) binds customers and operators as it binds Microsoft's side: the offer's
/// rules, our catalogue and the marketplace's allowed operations. Only an operator may override an offer rule, only with
/// a reason that history and the audit log keep. Against the emulator over loopback, on SQLite or PostgreSQL.
/// </summary>
public sealed class ChangeRulesTests : IAsyncLifetime
{
    private const string Offer = EmulatorCatalogue.InsightsOffer;
    private static readonly CurrentUser Alice = new(Guid.NewGuid().ToString(), "contoso", "alice@contoso.example", "Alice");
    private static readonly System.Security.Claims.ClaimsPrincipal Olivia = ConsoleHosting.Person("olivia@publisher.example", Roles.Operator);

    private WebhookScenario _scenario = default!;
    private WebhookTestHost _portal = default!;

    public async Task InitializeAsync()
    {
        _scenario = await WebhookScenario.StartAsync();
        _portal = await _scenario.StartPortalAsync(services: ConsoleHosting.AddConsoleWithPolicies);
        await _portal.SeedPlanAsync(Offer, "team", perSeat: true, min: 1, max: 50);
        await _portal.SeedPlanAsync(Offer, "business", perSeat: true, min: 5, max: 500);
        await _portal.SeedPlanAsync(Offer, "starter", perSeat: false);
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Fact]
    public async Task A_customer_cannot_go_below_the_offers_minimum_seats_and_nothing_reaches_the_marketplace()
    {
        await OffersHosting.SaveAsync(_scenario.Database, OfferPolicy.DefaultFor(Offer) with { MinimumSeats = MinimumSeatsRule.Fixed, MinimumSeatsFixed = 10 });
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "team", 12);

        var result = await Changes().RequestQuantityChangeAsync(id, 8, Alice, EventSources.Customer);

        var refusal = Assert.IsType<ChangeRequestResult.NotAllowed>(result);
        Assert.Contains("minimum seats: 10", refusal.Reason, StringComparison.Ordinal);
        await AssertNothingSentAsync(id, 12);
    }

    [Fact]
    public async Task A_customer_cannot_make_a_plan_move_the_offer_does_not_allow()
    {
        await OffersHosting.SaveAsync(_scenario.Database, OfferPolicy.DefaultFor(Offer) with { AllowedPlanMoves = [new PlanMove("team", "business")] });
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "team", 5);

        var result = await Changes().RequestPlanChangeAsync(id, "starter", Alice, EventSources.Customer);

        Assert.Contains("allowed plan moves", Assert.IsType<ChangeRequestResult.NotAllowed>(result).Reason, StringComparison.Ordinal);
        await AssertNothingSentAsync(id, 5);
    }

    [Fact]
    public async Task A_customer_cannot_override_an_offer_rule_even_when_a_reason_reaches_the_service()
    {
        await OffersHosting.SaveAsync(_scenario.Database, OfferPolicy.DefaultFor(Offer) with { AcceptChanges = false });
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "team", 5);

        var result = await Changes().RequestQuantityChangeAsync(id, 8, Alice, EventSources.Customer, "please");

        Assert.Contains("changes accepted: no", Assert.IsType<ChangeRequestResult.NotAllowed>(result).Reason, StringComparison.Ordinal);
        await AssertNothingSentAsync(id, 5);
        var options = await Changes().OptionsAsync(id, EventSources.Customer);
        Assert.Equal((false, false), (options!.CanChangePlan, options.CanChangeSeats));
        Assert.Contains("does not allow plan or seat changes", options.WhyNot, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operator_is_refused_an_offer_rule_without_a_reason_and_overrides_it_with_one_kept_in_history_and_audit()
    {
        await OffersHosting.SaveAsync(_scenario.Database, OfferPolicy.DefaultFor(Offer) with { AcceptChanges = false });
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "team", 5);

        var withoutReason = Changed(await Actions().ChangeSeatsAsync(Olivia, id, 8));
        var refusal = Assert.IsType<ChangeRequestResult.NotAllowed>(withoutReason);
        Assert.True(refusal.Verdict!.CanBeOverridden);
        await AssertNothingSentAsync(id, 5);

        var withReason = Changed(await Actions().ChangeSeatsAsync(Olivia, id, 8, overrideReason: "Agreed with the customer on the phone, ticket 4711"));

        var started = Assert.IsType<ChangeRequestResult.Started>(withReason);
        await Eventually.HoldsAsync(() => _portal.Subscriptions.FindAsync(id), s => s!.Quantity == 8, "the seat change to land");
        var overridden = Assert.Single(await _portal.Subscriptions.HistoryAsync(id), e => e.Kind == EventKinds.ChangeRuleOverridden);
        Assert.Equal((started.Operation.Id, "olivia@publisher.example"), (overridden.OperationId, overridden.Actor));
        Assert.Contains("rule 'changes accepted: no'", overridden.Detail, StringComparison.Ordinal);
        Assert.Contains("ticket 4711", overridden.Detail, StringComparison.Ordinal);
        var audit = await _portal.Services.GetRequiredService<AuditLog>().ForSubscriptionAsync(id);
        Assert.Contains(audit, a => a.Outcome == "Started" && a.Detail!.Contains("overriding rule 'changes accepted: no': Agreed with the customer", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Outcome == "NotAllowed" && a.Detail!.Contains("refused by rule 'changes accepted: no'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Not_even_an_operator_with_a_reason_can_go_past_the_plans_bounds()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "team", 5);

        var result = Changed(await Actions().ChangeSeatsAsync(Olivia, id, 60, overrideReason: "big customer"));

        var refusal = Assert.IsType<ChangeRequestResult.NotAllowed>(result);
        Assert.Contains("at most 50", refusal.Reason, StringComparison.Ordinal);
        Assert.False(refusal.Verdict!.CanBeOverridden);
        await AssertNothingSentAsync(id, 5);
    }

    [Fact]
    public async Task A_reseller_purchase_offers_no_change_names_the_reseller_and_never_shows_a_raw_marketplace_error()
    {
        var id = await ResellerSubscriptionAsync();

        var plan = Changed(await Actions().ChangePlanAsync(Olivia, id, "business"));
        var seats = Changed(await Actions().ChangeSeatsAsync(Olivia, id, 12));
        var customer = await Changes().RequestQuantityChangeAsync(id, 12, Alice, EventSources.Customer);

        foreach (var result in new[] { plan, seats, customer })
        {
            var refusal = Assert.IsType<ChangeRequestResult.NotAllowed>(result);
            Assert.Contains("only the reseller", refusal.Reason, StringComparison.Ordinal);
            Assert.Contains("in the Microsoft marketplace", refusal.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("allowed customer operation", refusal.Reason, StringComparison.Ordinal);
        }

        await AssertNothingSentAsync(id, 10);
        var options = await Actions().OptionsAsync(Olivia, id);
        Assert.Equal((false, false, false), (options!.CanChangePlan, options.CanChangeSeats, options.CanCancel));
        Assert.Contains("reseller", options.WhyNot, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_operators_preview_shows_the_billing_effect_and_which_offer_rule_a_reason_would_override()
    {
        await OffersHosting.SaveAsync(_scenario.Database, OfferPolicy.DefaultFor(Offer) with { MinimumSeats = MinimumSeatsRule.Fixed, MinimumSeatsFixed = 10 });
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "team", 12);

        var seats = await Actions().PreviewAsync(Olivia, id, ProposedChange.Seats(ChangeSide.Operator, 8));
        var flat = await Actions().PreviewAsync(Olivia, id, ProposedChange.PlanMove(ChangeSide.Operator, "starter"));

        Assert.Equal("minimum seats: 10", seats!.Verdict.Rule);
        Assert.True(seats.Verdict.CanBeOverridden);
        Assert.Equal("Billing changes from team (team) × 12 seats to team (team) × 8 seats.", seats.BillingEffect);
        Assert.True(flat!.Verdict.Allowed);
        Assert.Equal("Billing changes from team (team) × 12 seats to starter (starter), flat rate.", flat.BillingEffect);
        Assert.Null(await Actions().PreviewAsync(ConsoleHosting.Person("finn@publisher.example", Roles.Finance), id, ProposedChange.Seats(ChangeSide.Operator, 8)));
    }

    private async Task<Guid> ResellerSubscriptionAsync()
    {
        var purchase = await _scenario.Simulator.PurchaseAsync(PurchaseRequest.ResellerDemo());
        await _portal.Marketplace.ActivateAsync(purchase.SubscriptionId, new Marketplace.Models.ActivationRequest("team", 10), Guid.NewGuid());
        var remote = await _portal.Marketplace.GetSubscriptionAsync(purchase.SubscriptionId, Guid.NewGuid());
        await using var connection = await _portal.Database.OpenAsync();
        await using var tx = await _portal.Database.BeginWriteAsync(connection);
        await _portal.Subscriptions.RecordFromMarketplaceAsync(remote, connection, tx);
        await tx.CommitAsync();
        return purchase.SubscriptionId;
    }

    /// <summary>Neither the marketplace nor our operations table saw a request; the seats are as they were.</summary>
    private async Task AssertNothingSentAsync(Guid id, int seats)
    {
        Assert.Empty(await _portal.Services.GetRequiredService<OperationStore>().ListForSubscriptionAsync(id));
        Assert.Equal(seats, _scenario.Simulator.Find(id)!.Quantity);
        Assert.Equal(seats, (await _portal.Subscriptions.FindAsync(id))!.Quantity);
    }

    private static ChangeRequestResult Changed(ConsoleActionResult result) => Assert.IsType<ConsoleActionResult.ChangeRequested>(result).Result;

    private SubscriptionChangeService Changes() => _portal.Services.CreateScope().ServiceProvider.GetRequiredService<SubscriptionChangeService>();

    private OperatorActions Actions() => _portal.Services.CreateScope().ServiceProvider.GetRequiredService<OperatorActions>();
}
