using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Marketplace.Emulator;
using Marketplace.Models;

namespace Marketplace.Tests.Metering;

/// <summary>The emulator's metering API rules (docs/marketplace.md#metering), over raw HTTP so the wire shapes are what is tested.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class MeteringEmulatorTests(EmulatorFixture fixture)
{
    private const string Dimension = "reports-generated";

    private static DateTimeOffset ThisHour
    {
        get
        {
            var now = TimeProvider.System.GetUtcNow();
            return new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        }
    }

    private async Task<Guid> SubscribedBusinessAsync()
    {
        var purchase = await fixture.PurchaseAsync(new PurchaseRequest { PlanId = "business", Quantity = 5 }, activate: true);
        return purchase.SubscriptionId;
    }

    private static UsageEvent Usage(Guid subscriptionId, DateTimeOffset? at = null, decimal quantity = 7, string dimension = Dimension, string planId = "business") => new()
    {
        ResourceId = subscriptionId, Quantity = quantity, Dimension = dimension, EffectiveStartTime = at ?? ThisHour.AddHours(-1), PlanId = planId,
    };

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task A_usage_event_for_a_dimension_of_the_plan_is_accepted_with_an_id()
    {
        var subscriptionId = await SubscribedBusinessAsync();

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<UsageEventResult>(MarketplaceJson.Options))!;
        Assert.Equal(UsageEventStatus.Accepted, result.Status);
        Assert.NotNull(result.UsageEventId);
        Assert.Equal(7m, result.Quantity);
    }

    [Fact]
    public async Task A_second_event_in_the_same_hour_is_a_409_carrying_the_accepted_event()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        using var first = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, ThisHour.AddHours(-2), 7));
        var accepted = (await first.Content.ReadFromJsonAsync<UsageEventResult>(MarketplaceJson.Options))!;

        using var second = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, ThisHour.AddHours(-2).AddMinutes(30), 99));

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        var body = await JsonOf(second);
        Assert.Equal("Conflict", body.GetProperty("code").GetString());
        var message = body.GetProperty("additionalInfo").GetProperty("acceptedMessage");
        Assert.Equal(accepted.UsageEventId, message.GetProperty("usageEventId").GetGuid());
        Assert.Equal(7m, message.GetProperty("quantity").GetDecimal());
        Assert.Equal("Duplicate", message.GetProperty("status").GetString());
        Assert.Single(fixture.Simulator.AcceptedUsageFor(subscriptionId));
    }

    [Theory]
    [InlineData(0, "InvalidQuantity")]
    [InlineData(-3, "InvalidQuantity")]
    public async Task A_quantity_that_is_not_positive_is_refused(int quantity, string reason)
    {
        var subscriptionId = await SubscribedBusinessAsync();

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, quantity: quantity));

        await AssertBadArgumentAsync(response, reason);
    }

    [Fact]
    public async Task Usage_older_than_24_hours_is_expired()
    {
        var subscriptionId = await SubscribedBusinessAsync();

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, ThisHour.AddHours(-25)));

        await AssertBadArgumentAsync(response, "Expired");
    }

    [Fact]
    public async Task Usage_in_the_future_is_refused()
    {
        var subscriptionId = await SubscribedBusinessAsync();

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, ThisHour.AddHours(2)));

        await AssertBadArgumentAsync(response, "BadArgument");
    }

    [Fact]
    public async Task A_dimension_the_plan_does_not_list_is_refused()
    {
        var subscriptionId = await SubscribedBusinessAsync();

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, dimension: "emails-sent"));

        await AssertBadArgumentAsync(response, "InvalidDimension");
    }

    [Fact]
    public async Task A_plan_without_dimensions_has_no_metered_usage()
    {
        var purchase = await fixture.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 2 }, activate: true);

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(purchase.SubscriptionId, planId: "team"));

        await AssertBadArgumentAsync(response, "InvalidDimension");
    }

    [Fact]
    public async Task A_subscription_not_yet_activated_is_not_active()
    {
        var purchase = await fixture.PurchaseAsync(new PurchaseRequest { PlanId = "business", Quantity = 5 });

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(purchase.SubscriptionId));

        await AssertBadArgumentAsync(response, "ResourceNotActive");
    }

    [Fact]
    public async Task A_suspended_subscription_is_not_active()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        await fixture.Simulator.SuspendAsync(subscriptionId);

        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId));

        await AssertBadArgumentAsync(response, "ResourceNotActive");
    }

    [Fact]
    public async Task An_unknown_subscription_is_not_found()
    {
        using var response = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(Guid.NewGuid()));

        await AssertBadArgumentAsync(response, "ResourceNotFound");
    }

    [Fact]
    public async Task A_batch_answers_each_event_with_its_own_status()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        using var earlier = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, ThisHour.AddHours(-3)));
        var batch = new BatchUsageEventRequest
        {
            Request =
            [
                Usage(subscriptionId, ThisHour.AddHours(-1)),
                Usage(subscriptionId, ThisHour.AddHours(-3)),
                Usage(subscriptionId, ThisHour.AddHours(-30)),
                Usage(subscriptionId, ThisHour.AddHours(-4), dimension: "emails-sent"),
                Usage(subscriptionId, ThisHour.AddHours(-5), quantity: 0),
            ],
        };

        using var response = await fixture.ApiAsync(HttpMethod.Post, "batchUsageEvent", batch);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<BatchUsageEventResult>(MarketplaceJson.Options))!;
        Assert.Equal(5, result.Count);
        Assert.Equal(
            [UsageEventStatus.Accepted, UsageEventStatus.Duplicate, UsageEventStatus.Expired, UsageEventStatus.InvalidDimension, UsageEventStatus.InvalidQuantity],
            result.Result.Select(r => r.Status));
        Assert.NotNull(result.Result[1].Error?.AdditionalInfo?.AcceptedMessage);
    }

    [Fact]
    public async Task A_batch_of_more_than_25_events_is_refused_whole()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        var batch = new BatchUsageEventRequest { Request = [.. Enumerable.Range(1, 26).Select(i => Usage(subscriptionId, ThisHour.AddMinutes(-i * 50)))] };

        using var response = await fixture.ApiAsync(HttpMethod.Post, "batchUsageEvent", batch);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(fixture.Simulator.UsageSubmissionsFor(subscriptionId));
    }

    [Fact]
    public async Task Reported_usage_is_retrieved_by_date_and_subscription()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        var other = await SubscribedBusinessAsync();
        using var a = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, ThisHour.AddHours(-6), 3));
        using var b = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId, ThisHour.AddHours(-2), 4));
        using var c = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(other, ThisHour.AddHours(-2), 5));
        var start = Uri.EscapeDataString(ThisHour.AddHours(-3).ToString("O"));

        var reported = await fixture.ApiJsonAsync<List<ReportedUsage>>(
            HttpMethod.Get, $"usageEvents?api-version={EmulatorFixture.ApiVersion}&usageStartDate={start}&resourceId={subscriptionId}");

        var only = Assert.Single(reported);
        Assert.Equal(subscriptionId, only.UsageResourceId);
        Assert.Equal(4m, only.SubmittedQuantity);
        Assert.Equal(ThisHour.AddHours(-2), only.UsageDate);
    }

    [Fact]
    public async Task Retrieval_without_a_start_date_is_refused()
    {
        using var response = await fixture.ApiAsync(HttpMethod.Get, "usageEvents");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Metering_calls_pass_the_same_gate_as_fulfillment_calls()
    {
        var subscriptionId = await SubscribedBusinessAsync();

        using var noToken = await fixture.ApiAsync(HttpMethod.Post, "usageEvent", Usage(subscriptionId), token: "not-a-token");
        using var noVersion = await fixture.ApiAsync(HttpMethod.Post, "usageEvent?x=1", Usage(subscriptionId));

        Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noVersion.StatusCode);
        Assert.Empty(fixture.Simulator.UsageSubmissionsFor(subscriptionId));
    }

    private static async Task AssertBadArgumentAsync(HttpResponseMessage response, string detailCode)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await JsonOf(response);
        Assert.Equal("BadArgument", body.GetProperty("code").GetString());
        Assert.Equal(detailCode, body.GetProperty("details")[0].GetProperty("code").GetString());
    }
}
