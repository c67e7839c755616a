using Marketplace.Emulator;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Offers;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Landing;

/// <summary>What My subscriptions offers a customer: only what the one decision (ChangeRules) would let them ask for.</summary>
public sealed class CustomerSubscriptionsTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>, IAsyncLifetime
{
    private TestDatabase _db = default!;
    private ServiceProvider _services = default!;

    private CustomerSubscriptions Customer => _services.GetRequiredService<CustomerSubscriptions>();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var services = new ServiceCollection();
        services.AddLandingUnderTest(_db, fixture.Emulator);
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_flat_rate_plan_offers_no_seat_change_and_a_per_seat_plan_does()
    {
        var perSeat = await ActivatedAsync(new PurchaseRequest { PlanId = "team", Quantity = 5 }, DemoIdentities.Alice);
        var flat = await ActivatedAsync(new PurchaseRequest { PlanId = "starter" }, DemoIdentities.Alice);

        var rows = await Customer.ListAsync(DemoIdentities.Alice.AsUser());

        var team = rows.Single(r => r.Subscription.Id == perSeat);
        var starter = rows.Single(r => r.Subscription.Id == flat);
        Assert.Equal((true, true), (team.CanChangePlan, team.CanChangeSeats));
        Assert.Equal((true, false), (starter.CanChangePlan, starter.CanChangeSeats));
        Assert.Equal("Flat rate (no seat count)", Presentation.Seats(starter.Subscription.Quantity, starter.Options!.IsPricePerSeat));
    }

    [Fact]
    public async Task The_plan_choices_leave_out_moves_the_offer_does_not_allow()
    {
        var id = await ActivatedAsync(new PurchaseRequest { PlanId = "team", Quantity = 5 }, DemoIdentities.Alice);
        await OffersHosting.SaveAsync(_db.Database, OfferPolicy.DefaultFor(EmulatorCatalogue.InsightsOffer) with { AllowedPlanMoves = [new PlanMove("team", "business")] });

        var choices = await Customer.PlansForAsync(id, DemoIdentities.Alice.AsUser());

        Assert.Null(choices.Problem);
        Assert.Equal(["business"], choices.Plans.Select(p => p.PlanId));
    }

    [Fact]
    public async Task A_reseller_purchase_offers_nothing_and_says_the_reseller_makes_changes_in_the_marketplace()
    {
        var id = await ActivatedAsync(PurchaseRequest.ResellerDemo(), DemoIdentities.Bob);

        var row = Assert.Single(await Customer.ListAsync(DemoIdentities.Bob.AsUser()), r => r.Subscription.Id == id);

        Assert.Equal((false, false, false), (row.CanChangePlan, row.CanChangeSeats, row.CanCancel));
        Assert.Equal("Bought through a reseller, so only the reseller (carla@csp-reseller.example) can have it changed or cancelled, in the Microsoft marketplace.",
            row.WhyNoChanges);
    }

    /// <summary>Through the landing page as the customer would: resolve (which stores the offer's plans), set up, activate.</summary>
    private async Task<Guid> ActivatedAsync(PurchaseRequest request, DemoIdentity who)
    {
        var purchase = await fixture.Emulator.Simulator.PurchaseAsync(request);
        await using var scope = _services.CreateAsyncScope();
        var landing = scope.ServiceProvider.GetRequiredService<LandingService>();
        await landing.OpenAsync(purchase.Token, who.AsUser());
        await landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), who.AsUser());
        await landing.ActivateAsync(purchase.SubscriptionId, who.AsUser());
        return purchase.SubscriptionId;
    }
}
