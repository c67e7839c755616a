using System.Net;
using Marketplace.Emulator;
using Marketplace.Models;

namespace Marketplace.Tests.Client;

/// <summary>Every call of the client over real loopback HTTPS against the emulator, success and refusal.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class FulfillmentClientEmulatorTests(EmulatorFixture fixture) : IAsyncLifetime
{
    private readonly Guid _correlation = Guid.NewGuid();
    private EmulatorClient _harness = null!;

    private IFulfillmentClient Client => _harness.Client;

    public Task InitializeAsync()
    {
        _harness = new EmulatorClient(fixture.Emulator);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private async Task<Guid> SubscribedAsync(PurchaseRequest? request = null)
    {
        var purchase = await fixture.Simulator.PurchaseAsync(request ?? new PurchaseRequest { PlanId = "team", Quantity = 5 });
        await Client.ActivateAsync(purchase.SubscriptionId, new ActivationRequest(request?.PlanId ?? "team", request?.Quantity ?? 5), _correlation);
        return purchase.SubscriptionId;
    }

    [Fact]
    public async Task Resolving_a_fresh_purchase_token_names_the_pending_subscription()
    {
        var purchase = await fixture.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 7 });

        var resolved = await Client.ResolveAsync(purchase.Token, _correlation);

        Assert.Equal((purchase.SubscriptionId, "team", 7), (resolved.Id, resolved.PlanId, resolved.Quantity));
        Assert.Equal(SubscriptionStatus.PendingFulfillmentStart, resolved.Subscription!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task Resolving_an_expired_purchase_token_is_refused_with_400()
    {
        var purchase = await fixture.Simulator.PurchaseAsync(new PurchaseRequest());
        fixture.Simulator.ExpireToken(purchase.Token);

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => Client.ResolveAsync(purchase.Token, _correlation));

        Assert.Equal(HttpStatusCode.BadRequest, failure.StatusCode);
        Assert.Contains("expired", failure.ErrorMessage, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Resolving_a_made_up_purchase_token_is_refused_with_400()
    {
        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => Client.ResolveAsync("made-up-token", _correlation));

        Assert.Equal(HttpStatusCode.BadRequest, failure.StatusCode);
    }

    [Fact]
    public async Task Activating_a_purchase_makes_it_subscribed()
    {
        var purchase = await fixture.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 3 });

        await Client.ActivateAsync(purchase.SubscriptionId, new ActivationRequest("team", 3), _correlation);

        var subscription = await Client.GetSubscriptionAsync(purchase.SubscriptionId, _correlation);
        Assert.Equal(SubscriptionStatus.Subscribed, subscription.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task Getting_an_unknown_subscription_is_refused_with_404_and_a_request_id()
    {
        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => Client.GetSubscriptionAsync(Guid.NewGuid(), _correlation));

        Assert.Equal(HttpStatusCode.NotFound, failure.StatusCode);
        Assert.True(Guid.TryParse(failure.RequestId, out _));
    }

    [Fact]
    public async Task Available_plans_come_from_the_offer_catalogue()
    {
        var subscription = await SubscribedAsync();

        var plans = await Client.ListAvailablePlansAsync(subscription, _correlation);

        Assert.Contains(plans, p => p.PlanId == "business" && p.IsPricePerSeat);
    }

    [Fact]
    public async Task Asking_for_an_unknown_plan_gives_an_empty_list()
    {
        var subscription = await SubscribedAsync();

        var plans = await Client.ListAvailablePlansAsync(subscription, _correlation, planId: "no-such-plan");

        Assert.Empty(plans);
    }

    [Fact]
    public async Task Changing_the_plan_returns_the_operation_to_follow()
    {
        var subscription = await SubscribedAsync();

        var accepted = await Client.ChangePlanAsync(subscription, "business", _correlation);

        var operation = await Client.GetOperationAsync(subscription, accepted.OperationId, _correlation);
        Assert.Equal((accepted.OperationId, OperationAction.ChangePlan, "business"), (operation.Id, operation.KnownAction, operation.PlanId));
        Assert.EndsWith($"/saas/subscriptions/{subscription}/operations/{accepted.OperationId}", accepted.Location.AbsolutePath);
    }

    [Fact]
    public async Task Changing_to_a_plan_outside_the_catalogue_is_refused_with_400()
    {
        var subscription = await SubscribedAsync();

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => Client.ChangePlanAsync(subscription, "platinum", _correlation));

        Assert.Equal(HttpStatusCode.BadRequest, failure.StatusCode);
        Assert.False(failure.IsPendingOperation);
    }

    [Fact]
    public async Task Changing_seats_beyond_the_plan_bounds_is_refused_with_400()
    {
        var subscription = await SubscribedAsync();

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => Client.ChangeQuantityAsync(subscription, 51, _correlation));

        Assert.Equal(HttpStatusCode.BadRequest, failure.StatusCode);
    }

    [Fact]
    public async Task A_change_while_the_marketplace_awaits_our_answer_is_refused_as_pending()
    {
        var subscription = await SubscribedAsync();
        await fixture.Simulator.ChangePlanAsync(subscription, "business");

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => Client.ChangeQuantityAsync(subscription, 9, _correlation));

        Assert.True(failure.IsPendingOperation, failure.Message);
    }

    [Fact]
    public async Task The_operation_the_marketplace_started_is_outstanding_and_can_be_accepted_once()
    {
        var subscription = await SubscribedAsync();
        var operationId = await fixture.Simulator.ChangeQuantityAsync(subscription, 8);

        var outstanding = await Client.ListOutstandingOperationsAsync(subscription, _correlation);
        await Client.UpdateOperationStatusAsync(subscription, operationId, OperationStatusUpdate.Success, _correlation);

        Assert.Contains(outstanding, o => o.Id == operationId);
        Assert.Single(fixture.Simulator.StatusUpdatesFor(operationId));
    }

    [Fact]
    public async Task Cancelling_returns_the_operation_to_follow()
    {
        var subscription = await SubscribedAsync();

        var accepted = await Client.DeleteSubscriptionAsync(subscription, _correlation);

        Assert.Equal(OperationAction.Unsubscribe, fixture.Simulator.FindOperation(accepted.OperationId)!.KnownAction);
    }

    [Fact]
    public async Task Cancelling_a_reseller_purchase_without_delete_permission_is_refused_with_400()
    {
        var purchase = await fixture.Simulator.PurchaseAsync(PurchaseRequest.ResellerDemo());
        await Client.ActivateAsync(purchase.SubscriptionId, new ActivationRequest("team", 10), _correlation);

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => Client.DeleteSubscriptionAsync(purchase.SubscriptionId, _correlation));

        Assert.Equal(HttpStatusCode.BadRequest, failure.StatusCode);
    }

    [Fact]
    public async Task Listing_follows_every_page_until_the_last()
    {
        var bought = new List<Guid>();
        for (var i = 0; i < fixture.Options.PageSize + 2; i++)
        {
            bought.Add((await fixture.Simulator.PurchaseAsync(new PurchaseRequest())).SubscriptionId);
        }

        var before = _harness.ApiRequests.Count;
        var listed = await Client.ListSubscriptionsAsync(_correlation).Select(s => s.Id).ToListAsync();

        Assert.Superset(bought.ToHashSet(), listed.ToHashSet());
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.True(_harness.ApiRequests.Count - before >= 2, "the list did not span several pages");
    }

    [Fact]
    public async Task A_garbage_bearer_token_is_refused_with_403()
    {
        await using var garbage = new EmulatorClient(fixture.Emulator, new FixedTokenProvider("garbage"));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => garbage.Client.GetSubscriptionAsync(Guid.NewGuid(), _correlation));

        Assert.Equal(HttpStatusCode.Forbidden, failure.StatusCode);
    }

    [Fact]
    public async Task Many_calls_ask_the_token_endpoint_once()
    {
        await Client.ListOutstandingOperationsAsync((await fixture.Simulator.PurchaseAsync(new PurchaseRequest())).SubscriptionId, _correlation);
        await Assert.ThrowsAsync<MarketplaceException>(() => Client.GetSubscriptionAsync(Guid.NewGuid(), _correlation));
        await Assert.ThrowsAsync<MarketplaceException>(() => Client.GetSubscriptionAsync(Guid.NewGuid(), _correlation));

        Assert.Equal(1, _harness.TokenRequests.Count);
    }

    [Fact]
    public async Task A_marketplace_that_cannot_be_reached_is_reported_as_unreachable()
    {
        await using var wrongHost = new EmulatorClient(fixture.Emulator, configure: o =>
        {
            o.BaseUri = new Uri("https://127.0.0.1:1/api/");
            o.MaxRetryAttempts = 0;
        });

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => wrongHost.Client.GetSubscriptionAsync(Guid.NewGuid(), _correlation));

        Assert.Equal("Unreachable", failure.ErrorCode);
    }
}
