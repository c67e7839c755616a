using System.Diagnostics;
using System.Net;

namespace Marketplace.Tests.Client;

/// <summary>Retries repeat only what cannot be done twice by repeating it (see MarketplaceResilience.ShouldRetry).</summary>
public sealed class FulfillmentClientRetryTests
{
    private const string SubscriptionJson = """{"id":"9a3b6f2e-1111-4000-8000-000000000001","planId":"team","saasSubscriptionStatus":"Subscribed"}""";

    private static HttpResponseMessage Throttled(TimeSpan retryAfter)
    {
        var response = StubHandler.Empty(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(retryAfter);
        return response;
    }

    private static HttpResponseMessage Accepted()
    {
        var response = StubHandler.Empty(HttpStatusCode.Accepted);
        response.Headers.Add("Operation-Location",
            $"https://marketplace.test/api/saas/subscriptions/{Guid.NewGuid()}/operations/{Guid.NewGuid()}?api-version=2018-08-31");
        return response;
    }

    [Fact]
    public async Task A_throttled_read_is_retried_after_the_wait_the_service_names()
    {
        await using var harness = new StubClient(new StubHandler((_, attempt) =>
            attempt == 1 ? Throttled(TimeSpan.FromSeconds(1)) : StubHandler.Json(HttpStatusCode.OK, SubscriptionJson)));
        var clock = Stopwatch.StartNew();

        var subscription = await harness.Client.GetSubscriptionAsync(Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal("team", subscription.PlanId);
        Assert.Equal(2, harness.Stub.Seen.Count);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {clock.Elapsed}, before the Retry-After of 1 s");
    }

    [Fact]
    public async Task A_failing_read_is_retried_until_it_succeeds()
    {
        await using var harness = new StubClient(new StubHandler((_, attempt) =>
            attempt < 3 ? StubHandler.Empty(HttpStatusCode.InternalServerError) : StubHandler.Json(HttpStatusCode.OK, SubscriptionJson)));

        await harness.Client.GetSubscriptionAsync(Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(3, harness.Stub.Seen.Count);
    }

    [Fact]
    public async Task A_frozen_application_clock_freezes_neither_retries_nor_disposal()
    {
        // Tests keep the portal's records by a frozen clock; the client's waits must still pass in real time. Before the
        // pipeline took the system clock, this read waited for ever on its first retry delay.
        var frozen = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var harness = new StubClient(new StubHandler((_, attempt) =>
            attempt < 3 ? StubHandler.Empty(HttpStatusCode.InternalServerError) : StubHandler.Json(HttpStatusCode.OK, SubscriptionJson)),
            appClock: frozen);

        await harness.Client.GetSubscriptionAsync(Guid.NewGuid(), Guid.NewGuid()).WaitAsync(TimeSpan.FromSeconds(30));
        await harness.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, harness.Stub.Seen.Count);
    }

    [Fact]
    public async Task A_plan_change_answered_500_is_not_sent_again()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Empty(HttpStatusCode.InternalServerError)));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.ChangePlanAsync(Guid.NewGuid(), "business", Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
        Assert.Single(harness.Stub.Seen);
    }

    [Fact]
    public async Task A_cancellation_answered_503_is_not_sent_again()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Empty(HttpStatusCode.ServiceUnavailable)));

        await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.DeleteSubscriptionAsync(Guid.NewGuid(), Guid.NewGuid()));

        Assert.Single(harness.Stub.Seen);
    }

    [Fact]
    public async Task A_throttled_seat_change_is_retried_because_it_was_never_carried_out()
    {
        await using var harness = new StubClient(new StubHandler((_, attempt) =>
            attempt == 1 ? Throttled(TimeSpan.FromMilliseconds(50)) : Accepted()));

        await harness.Client.ChangeQuantityAsync(Guid.NewGuid(), 7, Guid.NewGuid());

        Assert.Equal(2, harness.Stub.Seen.Count);
    }

    [Fact]
    public async Task An_operation_status_update_answered_502_is_retried()
    {
        await using var harness = new StubClient(new StubHandler((_, attempt) =>
            attempt == 1 ? StubHandler.Empty(HttpStatusCode.BadGateway) : StubHandler.Empty(HttpStatusCode.OK)));

        await harness.Client.UpdateOperationStatusAsync(Guid.NewGuid(), Guid.NewGuid(), Models.OperationStatusUpdate.Success, Guid.NewGuid());

        Assert.Equal(2, harness.Stub.Seen.Count);
    }

    [Fact]
    public async Task A_plan_change_that_times_out_is_reported_as_of_unknown_outcome_and_not_repeated()
    {
        await using var harness = new StubClient(
            new StubHandler(async (_, _, ct) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(30), ct);
                return Accepted();
            }),
            options => options.AttemptTimeout = TimeSpan.FromSeconds(1));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.ChangePlanAsync(Guid.NewGuid(), "business", Guid.NewGuid()));

        Assert.Equal("OutcomeUnknown", failure.ErrorCode);
        Assert.Single(harness.Stub.Seen);
    }

    [Fact]
    public async Task A_read_gives_up_after_the_configured_number_of_retries()
    {
        await using var harness = new StubClient(
            new StubHandler((_, _) => StubHandler.Empty(HttpStatusCode.InternalServerError)),
            options => options.MaxRetryAttempts = 2);

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.GetSubscriptionAsync(Guid.NewGuid(), Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
        Assert.Equal(3, harness.Stub.Seen.Count);
    }
}
