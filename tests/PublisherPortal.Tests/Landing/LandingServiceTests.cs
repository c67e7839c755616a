using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Landing;

public sealed class LandingServiceTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>, IAsyncLifetime
{
    private TestDatabase _db = default!;
    private ServiceProvider _services = default!;

    private RunningEmulator Emulator => fixture.Emulator;
    private LandingService Landing => _services.GetRequiredService<LandingService>();
    private SubscriptionStore Store => _services.GetRequiredService<SubscriptionStore>();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var services = new ServiceCollection();
        services.AddLandingUnderTest(_db, Emulator);
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<SimulatedPurchase> BuyAsync(PurchaseRequest? request = null) =>
        Emulator.Simulator.PurchaseAsync(request ?? new PurchaseRequest { PlanId = "team", Quantity = 5 });

    [Fact]
    public async Task Opening_a_fresh_purchase_records_it_with_one_Resolved_event_however_often_it_is_opened()
    {
        var purchase = await BuyAsync();

        var first = await Landing.OpenAsync(purchase.Token, DemoIdentities.Alice.AsUser());
        await Landing.OpenAsync(purchase.Token, DemoIdentities.Alice.AsUser());

        var ready = Assert.IsType<LandingOutcome.ReadyToActivate>(first);
        Assert.Equal("Team", ready.Purchase.PlanDisplayName);
        Assert.Equal(SubscriptionStatus.PendingFulfillmentStart, (await Store.FindAsync(purchase.SubscriptionId))!.Status);
        var history = await Store.HistoryAsync(purchase.SubscriptionId);
        Assert.Equal([EventKinds.Resolved], history.Select(e => e.Kind));
        Assert.Equal(("customer", "alice@contoso.example"), (history[0].Source, history[0].Actor));
    }

    [Fact]
    public async Task An_expired_token_sends_the_customer_back_to_the_marketplace()
    {
        var purchase = await BuyAsync();
        Emulator.Simulator.ExpireToken(purchase.Token);

        var outcome = await Landing.OpenAsync(purchase.Token, DemoIdentities.Alice.AsUser());

        var invalid = Assert.IsType<LandingOutcome.InvalidToken>(outcome);
        Assert.Contains("expired", invalid.Explanation);
        Assert.Null(await Store.FindAsync(purchase.SubscriptionId));
    }

    [Fact]
    public async Task No_token_is_its_own_outcome_without_calling_the_marketplace()
    {
        Assert.IsType<LandingOutcome.NoToken>(await Landing.OpenAsync("  ", DemoIdentities.Alice.AsUser()));
    }

    [Fact]
    public async Task Set_up_and_activation_leave_Resolved_Configured_Activated_and_a_Subscribed_subscription_on_both_sides()
    {
        var purchase = await BuyAsync();
        var alice = DemoIdentities.Alice.AsUser();
        await Landing.OpenAsync(purchase.Token, alice);

        var configured = await Landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), alice);
        var outcome = await Landing.ActivateAsync(purchase.SubscriptionId, alice);

        Assert.Equal((int)WizardStep.ConfirmPlan, configured.WizardStep);
        var activated = Assert.IsType<ActivationOutcome.Activated>(outcome);
        Assert.Equal(SubscriptionStatus.Subscribed, activated.Subscription.Status);
        Assert.True(activated.Subscription.AccessEnabled);
        Assert.Equal("Contoso", activated.Subscription.AccountOrganisation);
        Assert.Equal(SubscriptionStatus.Subscribed, Emulator.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus);
        var history = await Store.HistoryAsync(purchase.SubscriptionId);
        Assert.Equal([EventKinds.Resolved, EventKinds.Configured, EventKinds.Activated], history.Select(e => e.Kind));
    }

    [Fact]
    public async Task Activating_twice_at_once_activates_once()
    {
        var purchase = await BuyAsync();
        var alice = DemoIdentities.Alice.AsUser();
        await Landing.OpenAsync(purchase.Token, alice);
        await Landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), alice);

        // Two scopes, as two clicks on two circuits would have.
        await using var other = _services.CreateAsyncScope();
        var outcomes = await Task.WhenAll(
            Landing.ActivateAsync(purchase.SubscriptionId, alice),
            other.ServiceProvider.GetRequiredService<LandingService>().ActivateAsync(purchase.SubscriptionId, alice));

        Assert.Contains(outcomes, o => o is ActivationOutcome.Activated);
        var history = await Store.HistoryAsync(purchase.SubscriptionId);
        Assert.Single(history, e => e.Kind == EventKinds.Activated);
    }

    [Fact]
    public async Task Reopening_an_activated_purchase_shows_it_as_already_active()
    {
        var purchase = await BuyAsync();
        var alice = DemoIdentities.Alice.AsUser();
        await Landing.OpenAsync(purchase.Token, alice);
        await Landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), alice);
        await Landing.ActivateAsync(purchase.SubscriptionId, alice);

        var again = await Landing.OpenAsync(purchase.Token, alice);

        Assert.IsType<LandingOutcome.AlreadyActive>(again);
    }

    [Fact]
    public async Task Activation_is_refused_until_the_set_up_is_saved()
    {
        var purchase = await BuyAsync();
        await Landing.OpenAsync(purchase.Token, DemoIdentities.Alice.AsUser());

        var outcome = await Landing.ActivateAsync(purchase.SubscriptionId, DemoIdentities.Alice.AsUser());

        Assert.IsType<ActivationOutcome.NotReady>(outcome);
        Assert.Equal(SubscriptionStatus.PendingFulfillmentStart, Emulator.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task A_user_of_another_tenant_must_confirm_and_the_confirmation_is_recorded()
    {
        var purchase = await BuyAsync();
        var mallory = DemoIdentities.Mallory.AsUser();
        var opened = Assert.IsType<LandingOutcome.ReadyToActivate>(await Landing.OpenAsync(purchase.Token, mallory));
        await Landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), mallory);

        var beforeConfirming = await Landing.ActivateAsync(purchase.SubscriptionId, mallory);
        await Landing.ConfirmTenantMismatchAsync(purchase.SubscriptionId, mallory);
        var afterConfirming = await Landing.ActivateAsync(purchase.SubscriptionId, mallory);

        Assert.True(opened.Purchase.TenantMismatch);
        Assert.IsType<ActivationOutcome.NotReady>(beforeConfirming);
        Assert.IsType<ActivationOutcome.Activated>(afterConfirming);
        Assert.Contains(await Store.HistoryAsync(purchase.SubscriptionId), e => e.Kind == EventKinds.TenantMismatchConfirmed && e.Actor == "mallory@northwind.example");
        Assert.Contains(await _services.GetRequiredService<AuditLog>().ForSubscriptionAsync(purchase.SubscriptionId), a => a.Action == EventKinds.TenantMismatchConfirmed);
    }

    [Fact]
    public async Task A_reseller_purchase_is_shown_as_one()
    {
        var purchase = await BuyAsync(PurchaseRequest.ResellerDemo());

        var outcome = await Landing.OpenAsync(purchase.Token, DemoIdentities.Bob.AsUser());

        var ready = Assert.IsType<LandingOutcome.ReadyToActivate>(outcome);
        Assert.True(ready.Purchase.Subscription.IsResellerPurchase);
        Assert.False(ready.Purchase.TenantMismatch);
    }

    [Fact]
    public async Task An_unsubscribed_purchase_is_shown_as_ended()
    {
        var purchase = await BuyAsync();
        await Emulator.Simulator.UnsubscribeAsync(purchase.SubscriptionId);
        var token = Emulator.Simulator.IssueToken(purchase.SubscriptionId);

        var outcome = await Landing.OpenAsync(token, DemoIdentities.Alice.AsUser());

        Assert.True(outcome is LandingOutcome.Ended or LandingOutcome.InvalidToken, $"got {outcome}");
    }

    [Fact]
    public async Task A_failed_TLS_handshake_with_the_marketplace_is_the_not_answering_page_not_an_error()
    {
        // The emulator's certificate, not trusted: every handshake fails, as against a marketplace behind a private CA
        // that this machine does not trust (README, "Trusting a private CA").
        var purchase = await BuyAsync();
        var services = new ServiceCollection();
        services.AddLandingUnderTest(_db, Emulator);
        services.Configure<Marketplace.MarketplaceClientOptions>(o => o.PinnedServerCertificate = null);
        await using var untrusting = services.BuildServiceProvider();
        await using var scope = untrusting.CreateAsyncScope();

        var outcome = await scope.ServiceProvider.GetRequiredService<LandingService>().OpenAsync(purchase.Token, DemoIdentities.Alice.AsUser());

        var unavailable = Assert.IsType<LandingOutcome.Unavailable>(outcome);
        Assert.Equal(MarketplaceProblems.Unavailable, unavailable.Explanation);
        Assert.Null(await Store.FindAsync(purchase.SubscriptionId));
    }
}
