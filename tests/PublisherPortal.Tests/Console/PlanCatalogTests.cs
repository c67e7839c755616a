using Microsoft.Extensions.Logging.Abstractions;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Console;

public sealed class PlanCatalogTests : IAsyncLifetime
{
    private TestDatabase _db = default!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private PlanCatalog Catalogue() => new(_db.Database, new PlanStore(_db.Time), new UnusedMarketplace(), NullLogger<PlanCatalog>.Instance);

    [Fact]
    public async Task Without_plans_or_subscriptions_the_catalogue_is_empty()
    {
        Assert.Empty(await Catalogue().ListAsync());
    }

    [Fact]
    public async Task A_plan_in_use_but_not_in_the_catalogue_is_listed_as_not_listed()
    {
        await ConsoleSeed.SubscriptionAsync(_db, offerId: "backup-saas", planId: "legacy", quantity: null);

        var plan = Assert.Single(await Catalogue().ListAsync());

        Assert.Equal(("legacy", false, 1), (plan.PlanId, plan.IsListed, plan.SubscriptionCount));
    }

    [Fact]
    public async Task Ended_subscriptions_do_not_count_towards_a_plans_use()
    {
        await ConsoleSeed.PlanAsync(_db, "insights-saas", "team", perSeat: true, min: 1, max: 50);
        await ConsoleSeed.SubscriptionAsync(_db, planId: "team", quantity: 5);
        await ConsoleSeed.SubscriptionAsync(_db, planId: "team", quantity: 9, status: Marketplace.Models.SubscriptionStatus.Unsubscribed);

        var team = Assert.Single(await Catalogue().ListAsync());

        Assert.Equal((1, 5), (team.SubscriptionCount, team.SeatCount));
    }

    [Theory]
    [InlineData("""{"isPricePerSeat":true,"planComponents":{"recurrentBillingTerms":[{"currency":"EUR","price":9.5,"termUnit":"P1Y"}]}}""", "EUR 9.50 per seat per year")]
    [InlineData("""{"isPricePerSeat":false,"planComponents":{"recurrentBillingTerms":[{"currency":"USD","price":100,"termUnit":"P1M"}]}}""", "USD 100.00 per month")]
    [InlineData("""{"planComponents":{"recurrentBillingTerms":[]}}""", null)]
    [InlineData("not json", null)]
    public void The_price_reads_the_first_billing_term(string rawJson, string? expected)
    {
        Assert.Equal(expected, PlanCatalog.DescribePrice(rawJson));
    }
}

/// <summary>For tests that only read: any call to the marketplace is a test bug, and says so.</summary>
internal sealed class UnusedMarketplace : Marketplace.IFulfillmentClient
{
    private static Exception Unexpected() => new InvalidOperationException("This test must not call the marketplace.");

    public Task<Marketplace.Models.ResolvedPurchase> ResolveAsync(string marketplaceToken, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task ActivateAsync(Guid subscriptionId, Marketplace.Models.ActivationRequest request, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public IAsyncEnumerable<Marketplace.Models.MarketplaceSubscription> ListSubscriptionsAsync(Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task<Marketplace.Models.MarketplaceSubscription> GetSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task<IReadOnlyList<Marketplace.Models.Plan>> ListAvailablePlansAsync(Guid subscriptionId, Guid correlationId, string? planId = null, CancellationToken ct = default) => throw Unexpected();
    public Task<Marketplace.Models.OperationAccepted> ChangePlanAsync(Guid subscriptionId, string planId, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task<Marketplace.Models.OperationAccepted> ChangeQuantityAsync(Guid subscriptionId, int quantity, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task<Marketplace.Models.OperationAccepted> DeleteSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task<IReadOnlyList<Marketplace.Models.MarketplaceOperation>> ListOutstandingOperationsAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task<Marketplace.Models.MarketplaceOperation> GetOperationAsync(Guid subscriptionId, Guid operationId, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
    public Task UpdateOperationStatusAsync(Guid subscriptionId, Guid operationId, Marketplace.Models.OperationStatusUpdate update, Guid correlationId, CancellationToken ct = default) => throw Unexpected();
}
