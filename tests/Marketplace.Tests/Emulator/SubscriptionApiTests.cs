using System.Net;
using System.Net.Http.Json;
using System.Web;
using Marketplace.Emulator;
using Marketplace.Models;

namespace Marketplace.Tests.Emulator;

/// <summary>The subscription calls of docs/marketplace.md#subscription-calls and the life cycle of
/// docs/marketplace.md#life-cycle, over raw HTTP.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class SubscriptionApiTests(EmulatorFixture fixture)
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Resolving_the_landing_token_returns_the_purchase()
    {
        var purchase = await fixture.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 7 });
        // The landing page gets the token URL-encoded; decoded once it is what Resolve takes (docs/marketplace.md#landing-token).
        var token = HttpUtility.ParseQueryString(purchase.LandingUrl!.Query)["token"];

        var resolved = await ResolveAsync(token);

        Assert.Equal(HttpStatusCode.OK, resolved.Status);
        Assert.Equal(purchase.SubscriptionId, resolved.Purchase!.Id);
        Assert.Equal("team", resolved.Purchase.PlanId);
        Assert.Equal(7, resolved.Purchase.Quantity);
        Assert.Equal(SubscriptionStatus.PendingFulfillmentStart, resolved.Purchase.Subscription!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task Resolving_without_a_token_is_a_400() =>
        Assert.Equal(HttpStatusCode.BadRequest, (await ResolveAsync(null)).Status);

    [Fact]
    public async Task Resolving_an_unknown_token_is_a_400() =>
        Assert.Equal(HttpStatusCode.BadRequest, (await ResolveAsync("bm90LWEtdG9rZW4=")).Status);

    [Fact]
    public async Task Resolving_an_expired_token_is_a_400()
    {
        var purchase = await fixture.PurchaseAsync();
        fixture.Simulator.ExpireToken(purchase.Token);

        Assert.Equal(HttpStatusCode.BadRequest, (await ResolveAsync(purchase.Token)).Status);
    }

    [Fact]
    public async Task A_fresh_token_for_an_existing_subscription_resolves_to_it()
    {
        var purchase = await fixture.PurchaseAsync();
        fixture.Simulator.ExpireToken(purchase.Token);

        var resolved = await ResolveAsync(fixture.Simulator.IssueToken(purchase.SubscriptionId));

        Assert.Equal(purchase.SubscriptionId, resolved.Purchase!.Id);
    }

    [Fact]
    public async Task Resolving_another_publishers_token_is_forbidden()
    {
        var purchase = await fixture.PurchaseAsync(new PurchaseRequest { PublisherId = "someone-else" });

        Assert.Equal(HttpStatusCode.Forbidden, (await ResolveAsync(purchase.Token)).Status);
    }

    [Fact]
    public async Task Activating_makes_the_subscription_Subscribed_and_twice_changes_nothing()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        using var again = await fixture.ApiAsync(HttpMethod.Post, $"saas/subscriptions/{purchase.SubscriptionId}/activate", new ActivationRequest("team", 1));
        var subscription = await fixture.ApiJsonAsync<MarketplaceSubscription>(HttpMethod.Get, $"saas/subscriptions/{purchase.SubscriptionId}");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(SubscriptionStatus.Subscribed, subscription.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task Activating_a_suspended_subscription_is_a_400()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        await fixture.Simulator.SuspendAsync(purchase.SubscriptionId);

        using var response = await fixture.ApiAsync(HttpMethod.Post, $"saas/subscriptions/{purchase.SubscriptionId}/activate", new ActivationRequest("team", 1));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Activating_an_unknown_or_unsubscribed_subscription_is_a_404()
    {
        var purchase = await fixture.PurchaseAsync();
        await fixture.Simulator.UnsubscribeAsync(purchase.SubscriptionId);

        using var unsubscribed = await fixture.ApiAsync(HttpMethod.Post, $"saas/subscriptions/{purchase.SubscriptionId}/activate");
        using var unknown = await fixture.ApiAsync(HttpMethod.Post, $"saas/subscriptions/{Guid.NewGuid()}/activate");

        Assert.Equal(HttpStatusCode.NotFound, unsubscribed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Getting_an_unknown_subscription_is_a_404()
    {
        using var response = await fixture.ApiAsync(HttpMethod.Get, $"saas/subscriptions/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Listing_follows_absolute_next_links_page_by_page_until_every_subscription_is_seen()
    {
        var mine = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            mine.Add((await fixture.PurchaseAsync()).SubscriptionId);
        }

        var seen = new List<Guid>();
        var pages = 0;
        string? next = "saas/subscriptions";
        while (!string.IsNullOrEmpty(next))
        {
            var page = await fixture.ApiJsonAsync<SubscriptionPage>(HttpMethod.Get, next);
            Assert.True(page.Subscriptions.Count <= fixture.Options.PageSize);
            Assert.True(page.NextLink is null || Uri.IsWellFormedUriString(page.NextLink, UriKind.Absolute), page.NextLink);
            seen.AddRange(page.Subscriptions.Select(s => s.Id));
            next = page.NextLink;
            pages++;
        }

        Assert.Subset(seen.ToHashSet(), mine.ToHashSet());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.True(pages >= 3, $"7 subscriptions at 3 a page need at least 3 pages, got {pages}");
    }

    [Fact]
    public async Task Another_publishers_subscriptions_are_not_listed()
    {
        var theirs = await fixture.PurchaseAsync(new PurchaseRequest { PublisherId = "someone-else" });

        using var get = await fixture.ApiAsync(HttpMethod.Get, $"saas/subscriptions/{theirs.SubscriptionId}");

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Available_plans_leave_out_stop_sell_plans_and_name_the_private_offer_of_a_private_plan()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        var all = await fixture.ApiJsonAsync<PlanList>(HttpMethod.Get, $"saas/subscriptions/{purchase.SubscriptionId}/listAvailablePlans");
        var one = await fixture.ApiJsonAsync<PlanList>(HttpMethod.Get, $"saas/subscriptions/{purchase.SubscriptionId}/listAvailablePlans?api-version={EmulatorFixture.ApiVersion}&planId=enterprise");
        var none = await fixture.ApiJsonAsync<PlanList>(HttpMethod.Get, $"saas/subscriptions/{purchase.SubscriptionId}/listAvailablePlans?api-version={EmulatorFixture.ApiVersion}&planId=nope");

        Assert.Equal(["starter", "team", "business", "enterprise"], all.Plans.Select(p => p.PlanId));
        Assert.Equal("insights-saas-private-enterprise", Assert.Single(Assert.Single(one.Plans).SourceOffers!).ExternalId);
        Assert.Empty(none.Plans);
    }

    [Fact]
    public async Task Changing_the_plan_answers_202_with_an_absolute_operation_location_and_applies_when_the_operation_succeeds()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        using var response = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { planId = "business" });
        var location = response.Headers.GetValues("Operation-Location").Single();
        var operation = await fixture.ApiJsonAsync<MarketplaceOperation>(HttpMethod.Get, location);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.StartsWith(fixture.Emulator.HttpsBaseUri + $"api/saas/subscriptions/{purchase.SubscriptionId}/operations/", location);
        Assert.Equal("ChangePlan", operation.Action);
        Assert.Equal("Partner", operation.RequestSource);

        await EmulatorFixture.EventuallyAsync(() => fixture.Simulator.FindOperation(operation.Id)!.Status == OperationStatus.Succeeded, "the change finishes", Soon);
        var after = fixture.Simulator.Find(purchase.SubscriptionId)!;
        Assert.Equal("business", after.PlanId);
        Assert.Equal(5, after.Quantity); // raised to the new plan's minimum
    }

    [Fact]
    public async Task A_change_while_another_is_pending_is_refused_as_locked()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        using var first = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { quantity = 3 });

        using var second = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { quantity = 4 });
        using var delete = await fixture.ApiAsync(HttpMethod.Delete, $"saas/subscriptions/{purchase.SubscriptionId}");
        var outstanding = await fixture.ApiJsonAsync<OperationList>(HttpMethod.Get, $"saas/subscriptions/{purchase.SubscriptionId}/operations");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("locked due to pending operations", await second.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Equal("ChangeQuantity", Assert.Single(outstanding.Operations).Action);
    }

    [Theory]
    [InlineData("""{"planId":"business","quantity":6}""", "both at once")]
    [InlineData("""{"planId":"team"}""", "the same plan")]
    [InlineData("""{"planId":"legacy-nowhere"}""", "an unknown plan")]
    [InlineData("""{"quantity":51}""", "more seats than the plan allows")]
    [InlineData("""{"quantity":0}""", "fewer seats than the plan allows")]
    [InlineData("""{"quantity":1}""", "the same quantity")]
    [InlineData("""{}""", "nothing to change")]
    public async Task A_change_the_marketplace_cannot_make_is_a_400(string body, string because)
    {
        var purchase = await fixture.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 1 }, activate: true);

        using var response = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}",
            configure: r => r.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, because);
    }

    [Fact]
    public async Task Seats_of_a_flat_plan_cannot_change()
    {
        var purchase = await fixture.PurchaseAsync(new PurchaseRequest { PlanId = "starter" }, activate: true);

        using var response = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { quantity = 2 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_subscription_not_yet_activated_cannot_change_plan()
    {
        var purchase = await fixture.PurchaseAsync();

        using var response = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { planId = "business" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_reseller_purchase_allows_neither_update_nor_delete()
    {
        var purchase = await fixture.PurchaseAsync(PurchaseRequest.ResellerDemo(), activate: true);

        using var patch = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { quantity = 12 });
        using var delete = await fixture.ApiAsync(HttpMethod.Delete, $"saas/subscriptions/{purchase.SubscriptionId}");
        var subscription = fixture.Simulator.Find(purchase.SubscriptionId)!;

        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, delete.StatusCode);
        Assert.Equal("Csp", subscription.SandboxType);
        Assert.True(subscription.IsResellerPurchase);
    }

    [Fact]
    public async Task Cancelling_answers_202_and_unsubscribes_after_the_delay()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        using var response = await fixture.ApiAsync(HttpMethod.Delete, $"saas/subscriptions/{purchase.SubscriptionId}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True(response.Headers.Contains("Operation-Location"));
        await EmulatorFixture.EventuallyAsync(() => fixture.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus == SubscriptionStatus.Unsubscribed, "the cancellation finishes", Soon);
    }

    [Fact]
    public async Task An_unknown_operation_is_a_404()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        using var response = await fixture.ApiAsync(HttpMethod.Get, $"saas/subscriptions/{purchase.SubscriptionId}/operations/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_publisher_cannot_acknowledge_its_own_operation()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        using var change = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { quantity = 2 });

        using var ack = await fixture.ApiAsync(HttpMethod.Patch, change.Headers.GetValues("Operation-Location").Single(), OperationStatusUpdate.Success);

        Assert.Equal(HttpStatusCode.BadRequest, ack.StatusCode);
    }

    private async Task<(HttpStatusCode Status, ResolvedPurchase? Purchase)> ResolveAsync(string? token)
    {
        using var response = await fixture.ApiAsync(HttpMethod.Post, "saas/subscriptions/resolve", configure: r =>
        {
            if (token is not null)
            {
                r.Headers.Add("x-ms-marketplace-token", token);
            }
        });
        return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<ResolvedPurchase>(MarketplaceJson.Options) : null);
    }
}
