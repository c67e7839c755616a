using System.Net;
using Marketplace.Models;

namespace Marketplace.Tests.Client;

/// <summary>What goes on the wire, and the lenient reading of answer shapes the emulator does not produce.</summary>
public sealed class FulfillmentClientWireTests
{
    private static readonly Guid Subscription = Guid.Parse("9a3b6f2e-1111-4000-8000-000000000001");

    [Fact]
    public async Task Every_call_carries_api_version_bearer_correlation_and_a_fresh_request_id()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK, "{}")));
        var correlation = Guid.NewGuid();

        await harness.Client.GetSubscriptionAsync(Subscription, correlation);
        await harness.Client.GetSubscriptionAsync(Subscription, correlation);

        var (first, second) = (harness.Stub.Seen[0], harness.Stub.Seen[1]);
        Assert.Equal("?api-version=2018-08-31", first.Uri.Query);
        Assert.Equal("Bearer stub-access-token", first.Headers["Authorization"]);
        Assert.Equal(correlation.ToString(), first.Headers["x-ms-correlationid"]);
        Assert.True(Guid.TryParse(first.Headers["x-ms-requestid"], out _));
        Assert.NotEqual(first.Headers["x-ms-requestid"], second.Headers["x-ms-requestid"]);
    }

    [Fact]
    public async Task A_plan_change_sends_only_the_plan_as_json()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => AcceptedAt(
            $"https://marketplace.test/api/saas/subscriptions/{Subscription}/operations/{Guid.NewGuid()}?api-version=2018-08-31")));

        await harness.Client.ChangePlanAsync(Subscription, "business", Guid.NewGuid());

        var sent = harness.Stub.Seen.Single();
        Assert.Equal((HttpMethod.Patch, """{"planId":"business"}"""), (sent.Method, sent.Body));
        Assert.StartsWith("application/json", sent.ContentType);
    }

    [Fact]
    public async Task Resolve_passes_the_purchase_token_in_its_header()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK,
            $$"""{"id":"{{Subscription}}","subscriptionName":"Contoso","offerId":"insights-saas","planId":"team","quantity":"5"}""")));

        var purchase = await harness.Client.ResolveAsync("token+with/odd=chars", Guid.NewGuid());

        Assert.Equal("token+with/odd=chars", harness.Stub.Seen.Single().Headers["x-ms-marketplace-token"]);
        Assert.Equal((Subscription, 5), (purchase.Id, purchase.Quantity));
    }

    [Fact]
    public async Task The_operation_id_comes_from_the_Operation_Location_path()
    {
        var operation = Guid.NewGuid();
        await using var harness = new StubClient(new StubHandler((_, _) =>
        {
            var response = AcceptedAt($"https://marketplace.test/api/saas/subscriptions/{Subscription}/operations/{operation}?api-version=2018-08-31");
            response.Headers.Add("Operation-Id", Guid.NewGuid().ToString());
            return response;
        }));

        var accepted = await harness.Client.DeleteSubscriptionAsync(Subscription, Guid.NewGuid());

        Assert.Equal(operation, accepted.OperationId);
        Assert.EndsWith($"/operations/{operation}", accepted.Location.AbsolutePath);
    }

    [Fact]
    public async Task An_Operation_Id_header_is_used_when_the_location_names_no_operation()
    {
        var operation = Guid.NewGuid();
        await using var harness = new StubClient(new StubHandler((_, _) =>
        {
            var response = StubHandler.Empty(HttpStatusCode.Accepted);
            response.Headers.Add("Operation-Id", operation.ToString());
            return response;
        }));

        var accepted = await harness.Client.ChangeQuantityAsync(Subscription, 3, Guid.NewGuid());

        Assert.Equal(operation, accepted.OperationId);
    }

    [Fact]
    public async Task An_accepted_change_without_any_operation_reference_is_an_invalid_response()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Empty(HttpStatusCode.Accepted)));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.ChangeQuantityAsync(Subscription, 3, Guid.NewGuid()));

        Assert.Equal("InvalidResponse", failure.ErrorCode);
    }

    [Theory]
    [InlineData("""{"operations":[{"id":"7d1e0b6c-0000-4000-8000-000000000001","action":"ChangePlan","status":"InProgress"}]}""", 1)]
    [InlineData("""[{"id":"7d1e0b6c-0000-4000-8000-000000000001","action":"Reinstate","status":" InProgress "}]""", 1)]
    [InlineData("", 0)]
    [InlineData("{}", 0)]
    public async Task Outstanding_operations_are_read_in_every_shape(string body, int expected)
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK, body)));

        var operations = await harness.Client.ListOutstandingOperationsAsync(Subscription, Guid.NewGuid());

        Assert.Equal(expected, operations.Count);
        Assert.All(operations, o => Assert.Equal(OperationStatus.InProgress, o.Status));
    }

    [Theory]
    [InlineData("""{"plans":[{"planId":"team","displayName":"Team"},{"planId":"business","displayName":"Business"}]}""", 2)]
    [InlineData("""[{"planId":"team","displayName":"Team"},{"planId":"business","displayName":"Business"}]""", 2)]
    [InlineData(" \n[]", 0)]
    [InlineData("", 0)]
    [InlineData("{}", 0)]
    public async Task Available_plans_are_read_in_every_shape_the_list_calls_accept(string body, int expected)
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK, body)));

        var plans = await harness.Client.ListAvailablePlansAsync(Subscription, Guid.NewGuid());

        Assert.Equal(expected, plans.Count);
        Assert.All(plans, p => Assert.False(string.IsNullOrEmpty(p.PlanId)));
    }

    [Fact]
    public async Task A_plan_list_that_is_not_json_is_an_invalid_response()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK, "[not json")));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.ListAvailablePlansAsync(Subscription, Guid.NewGuid()));

        Assert.Equal("InvalidResponse", failure.ErrorCode);
    }

    [Fact]
    public async Task An_empty_subscription_list_body_means_no_subscriptions()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Empty(HttpStatusCode.OK)));

        var all = await harness.Client.ListSubscriptionsAsync(Guid.NewGuid()).ToListAsync();

        Assert.Empty(all);
    }

    [Fact]
    public async Task Paging_follows_next_links_as_given_and_stops_at_the_last_page()
    {
        await using var harness = new StubClient(new StubHandler((request, _) => StubHandler.Json(HttpStatusCode.OK,
            request.Uri.Query.Contains("skip=1")
                ? """{"subscriptions":[{"id":"9a3b6f2e-1111-4000-8000-000000000002"}],"@nextLink":""}"""
                : """{"subscriptions":[{"id":"9a3b6f2e-1111-4000-8000-000000000001"}],"@nextLink":"https://marketplace.test/api/saas/subscriptions?continuationToken=abc&skip=1&api-version=2018-08-31"}""")));

        var all = await harness.Client.ListSubscriptionsAsync(Guid.NewGuid()).ToListAsync();

        Assert.Equal(2, all.Count);
        Assert.Equal("?continuationToken=abc&skip=1&api-version=2018-08-31", harness.Stub.Seen[1].Uri.Query);
    }

    [Fact]
    public async Task A_next_link_to_another_host_is_not_followed_with_our_token()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK,
            """{"subscriptions":[],"@nextLink":"https://elsewhere.test/steal?api-version=2018-08-31"}""")));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.ListSubscriptionsAsync(Guid.NewGuid()).ToListAsync().AsTask());

        Assert.Equal("UnexpectedNextLink", failure.ErrorCode);
        Assert.Single(harness.Stub.Seen);
    }

    [Fact]
    public async Task A_success_with_an_unreadable_body_is_an_invalid_response_keeping_the_body()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK, "not json")));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.GetSubscriptionAsync(Subscription, Guid.NewGuid()));

        Assert.Equal(("InvalidResponse", "not json"), (failure.ErrorCode, failure.RawBody));
    }

    private static HttpResponseMessage AcceptedAt(string location)
    {
        var response = StubHandler.Empty(HttpStatusCode.Accepted);
        response.Headers.Add("Operation-Location", location);
        return response;
    }
}
