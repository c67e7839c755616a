using Marketplace.Emulator;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Console;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Subscriptions;

/// <summary>
/// A flat-rate plan has no seats, whoever moves a subscription onto it: a Microsoft-side ChangePlan webhook, an operator,
/// a customer, or a reconciliation. Against the emulator over loopback, on the test database (SQLite or PostgreSQL).
/// </summary>
public sealed class FlatRatePlanTests : IAsyncLifetime
{
    private WebhookScenario _scenario = default!;
    private WebhookTestHost _portal = default!;

    public async Task InitializeAsync()
    {
        _scenario = await WebhookScenario.StartAsync();
        _portal = await _scenario.StartPortalAsync(services: ConsoleHosting.AddConsoleWithPolicies);
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_ChangePlan_webhook_from_per_seat_Pro_to_flat_Basic_clears_the_25_seats_and_history_says_so(bool catalogueLoaded)
    {
        // The demo's "Contoso backup" (its landing page loaded the catalogue); without one, the marketplace's own word
        // (no quantity after the move) decides.
        if (catalogueLoaded)
        {
            await _portal.SeedPlanAsync(EmulatorCatalogue.BackupOffer, "pro", perSeat: true, min: 1, max: 100);
            await _portal.SeedPlanAsync(EmulatorCatalogue.BackupOffer, "basic", perSeat: false);
        }

        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "pro", 25, EmulatorCatalogue.BackupOffer);

        var operationId = await _scenario.Simulator.ChangePlanAsync(id, "basic");
        await _portal.ProcessedAsync(operationId);

        var stored = await _portal.Subscriptions.FindAsync(id);
        Assert.Equal(("basic", (int?)null), (stored!.PlanId, stored.Quantity));
        // The marketplace applies the move once our acknowledgement (Success) reaches it.
        await Eventually.HoldsAsync(() => Task.FromResult(_scenario.Simulator.Find(id)!), s => s.PlanId == "basic", "the marketplace to apply the move");
        Assert.Null(_scenario.Simulator.Find(id)!.Quantity);
        var moved = Assert.Single(await _portal.EventsForOperationAsync(id, operationId));
        Assert.Equal((EventKinds.PlanChanged, 25, (int?)null), (moved.Kind, moved.FromQuantity, moved.ToQuantity));
        Assert.Contains("seats no longer apply: plan 'basic' is flat-rate (was 25)", moved.Detail, StringComparison.Ordinal);
        Assert.Equal(SyncOutcome.InSync, await _portal.Reconciler.SyncSubscriptionAsync(id));
    }

    [Theory]
    [InlineData(EventSources.Operator)]
    [InlineData(EventSources.Customer)]
    public async Task A_plan_change_we_request_onto_a_flat_rate_plan_clears_the_seats_when_the_marketplace_confirms_it(string source)
    {
        await _portal.SeedPlanAsync(EmulatorCatalogue.InsightsOffer, "team", perSeat: true, min: 1, max: 50);
        await _portal.SeedPlanAsync(EmulatorCatalogue.InsightsOffer, "starter", perSeat: false);
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "team", 5);

        var started = Assert.IsType<ChangeRequestResult.Started>(await Changes().RequestPlanChangeAsync(id, "starter", Actor(source), source));

        await Eventually.HoldsAsync(() => _portal.Subscriptions.FindAsync(id), s => s!.PlanId == "starter", "the plan change to land");
        var stored = await _portal.Subscriptions.FindAsync(id);
        Assert.Null(stored!.Quantity);
        var moved = Assert.Single(await _portal.EventsForOperationAsync(id, started.Operation.Id));
        Assert.Equal((5, (int?)null, source), (moved.FromQuantity, moved.ToQuantity, moved.Source));
        Assert.Contains("flat-rate", moved.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconciliation_reports_our_seats_on_a_flat_rate_plan_as_drift_and_clears_them()
    {
        await _portal.SeedPlanAsync(EmulatorCatalogue.InsightsOffer, "starter", perSeat: false);
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "starter", null);
        // What an older portal left behind: a seat count on a flat-rate plan.
        await _portal.Subscriptions.ApplyChangeAsync(new SubscriptionChange(id, EventKinds.QuantityChanged, EventSources.Operator, "olivia") { Quantity = 25 });

        Assert.Equal(SyncOutcome.Corrected, await _portal.Reconciler.SyncSubscriptionAsync(id));

        Assert.Null((await _portal.Subscriptions.FindAsync(id))!.Quantity);
        var correction = (await _portal.Subscriptions.HistoryAsync(id)).Last();
        Assert.Equal((EventSources.Reconciliation, 25, (int?)null), (correction.Source, correction.FromQuantity, correction.ToQuantity));
        Assert.Contains("seats 25 -> none (flat-rate plan)", correction.Detail, StringComparison.Ordinal);
        Assert.Equal(SyncOutcome.InSync, await _portal.Reconciler.SyncSubscriptionAsync(id));
    }

    [Fact]
    public async Task Seats_of_a_flat_rate_plan_are_not_offered_and_a_request_for_them_is_refused_by_name_before_the_marketplace()
    {
        await _portal.SeedPlanAsync(EmulatorCatalogue.InsightsOffer, "starter", perSeat: false);
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, "starter", null);

        var customer = await Changes().RequestQuantityChangeAsync(id, 3, Actor(EventSources.Customer), EventSources.Customer);

        var refusal = Assert.IsType<ChangeRequestResult.NotAllowed>(customer);
        Assert.Contains("flat-rate plan", refusal.Reason, StringComparison.Ordinal);
        Assert.Empty(await _portal.Services.GetRequiredService<OperationStore>().ListForSubscriptionAsync(id));
        var options = await Changes().OptionsAsync(id, EventSources.Customer);
        Assert.Equal((true, false, false), (options!.CanChangePlan, options.CanChangeSeats, options.IsPricePerSeat));
    }

    private SubscriptionChangeService Changes() => _portal.Services.CreateScope().ServiceProvider.GetRequiredService<SubscriptionChangeService>();

    private static CurrentUser Actor(string source) => source == EventSources.Customer
        ? new CurrentUser(Guid.NewGuid().ToString(), "contoso", "alice@contoso.example", "Alice")
        : CurrentUser.From(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator));
}
