using System.Net;
using Marketplace.Emulator;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>POST /api/webhook over real loopback HTTP, with tokens the emulator signs as Microsoft's side does.</summary>
public sealed class WebhookEndpointTests
{
    /// <summary>Only the door: nothing is processed, so what the endpoint stored is all there is.</summary>
    private static readonly Dictionary<string, string?> DoorOnly = new()
    {
        ["RunProcessor"] = "false",
        ["RunAcknowledgementSender"] = "false",
        ["RunOperationTracker"] = "false",
    };

    public static TheoryData<string, WebhookTokenOverrides, string> SpoiledTokens => new()
    {
        { "bad signature", new WebhookTokenOverrides { SignWithUnknownKey = true }, "bad signature" },
        { "wrong issuer", new WebhookTokenOverrides { Issuer = "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000c0de/v2.0" }, "wrong issuer" },
        { "wrong audience", new WebhookTokenOverrides { Audience = "api://someone-else" }, "wrong audience" },
        { "wrong app id", new WebhookTokenOverrides { AppId = "11111111-2222-3333-4444-555555555555" }, "wrong app id" },
        { "expired", new WebhookTokenOverrides { IssuedAt = DateTimeOffset.UtcNow.AddHours(-3), Lifetime = TimeSpan.FromHours(1) }, "expired" },
    };

    [Fact]
    public async Task A_delivery_without_a_token_is_refused_with_401_and_stored_but_never_processed()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(DoorOnly, receiveWebhooks: false);
        var operationId = await GenuineOperationAsync(scenario, portal);

        using var answer = await portal.PostAsync(WebhookTestHost.DeliveryBody(scenario.Emulator, operationId), authorization: null);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        var stored = Assert.Single(await portal.DeliveriesAsync());
        Assert.Equal((DeliveryResults.Unauthorized, "missing bearer token", null), (stored.Result, stored.RejectReason, stored.ProcessingState));
        Assert.Equal(operationId, stored.OperationId);
    }

    [Theory]
    [MemberData(nameof(SpoiledTokens))]
    public async Task A_delivery_with_a_spoiled_token_is_refused_with_401_and_stored_with_the_reason(
        string spoilt, WebhookTokenOverrides overrides, string reason)
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(DoorOnly, receiveWebhooks: false);
        var operationId = await GenuineOperationAsync(scenario, portal);
        var token = await scenario.Simulator.MintWebhookTokenAsync(overrides);

        using var answer = await portal.PostAsync(WebhookTestHost.DeliveryBody(scenario.Emulator, operationId), $"Bearer {token}");

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        var stored = Assert.Single(await portal.DeliveriesAsync());
        Assert.Equal(DeliveryResults.Unauthorized, stored.Result);
        Assert.True(stored.RejectReason == reason, $"{spoilt}: stored reason '{stored.RejectReason}'");
        Assert.Null(stored.ProcessingState);
        Assert.DoesNotContain(token, stored.Headers, StringComparison.Ordinal);
        Assert.DoesNotContain("authorization", stored.Headers, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("", "not a JSON operation: empty body")]
    [InlineData("this is not json", "not a JSON operation")]
    [InlineData("[1,2,3]", "not a JSON operation")]
    [InlineData("{}", "missing id, subscriptionId, action")]
    [InlineData("""{"id":"6f1d6a0e-3c57-4f3a-9a43-2b1d3b0c9e11","subscriptionId":"0b4b6a3e-54d8-4f0e-a3b7-6ad1c1b8b0a2"}""", "missing action")]
    [InlineData("""{"id":"6f1d6a0e-3c57-4f3a-9a43-2b1d3b0c9e11","action":"Suspend"}""", "missing subscriptionId")]
    [InlineData("""{"id":"not-a-guid","subscriptionId":"0b4b6a3e-54d8-4f0e-a3b7-6ad1c1b8b0a2","action":"Suspend"}""", "not a JSON operation")]
    public async Task A_malformed_or_incomplete_body_with_a_valid_token_is_refused_with_400_and_stored(string body, string reasonStart)
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(DoorOnly, receiveWebhooks: false);
        var token = await scenario.Simulator.MintWebhookTokenAsync();

        using var answer = await portal.PostAsync(body, $"Bearer {token}");

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var stored = Assert.Single(await portal.DeliveriesAsync());
        Assert.Equal(DeliveryResults.Malformed, stored.Result);
        Assert.StartsWith(reasonStart, stored.RejectReason);
        Assert.Equal(body, stored.Body);
        Assert.Null(stored.ProcessingState);
    }

    [Fact]
    public async Task A_valid_delivery_is_committed_to_the_inbox_before_the_200()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(DoorOnly, receiveWebhooks: false);
        var operationId = await GenuineOperationAsync(scenario, portal);
        var token = await scenario.Simulator.MintWebhookTokenAsync();

        using var answer = await portal.PostAsync(WebhookTestHost.DeliveryBody(scenario.Emulator, operationId), $"Bearer {token}");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        // A second instance over the same file sees it at once: it is on disk, not in a buffer.
        var other = await scenario.StartPortalAsync(DoorOnly, receiveWebhooks: false);
        var stored = Assert.Single(await other.DeliveriesAsync());
        Assert.Equal((DeliveryResults.Accepted, ProcessingStates.Pending, operationId), (stored.Result, stored.ProcessingState, stored.OperationId));
        Assert.Equal("Suspend", stored.Action);
        Assert.Contains("x-ms-requestid", stored.Headers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_repeated_delivery_answers_200_is_stored_as_duplicate_and_is_applied_once()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(receiveWebhooks: false);
        var operationId = await GenuineOperationAsync(scenario, portal);
        var body = WebhookTestHost.DeliveryBody(scenario.Emulator, operationId);

        using var first = await portal.PostAsync(body, $"Bearer {await scenario.Simulator.MintWebhookTokenAsync()}");
        using var second = await portal.PostAsync(body, $"Bearer {await scenario.Simulator.MintWebhookTokenAsync()}");
        using var third = await portal.PostAsync(body, $"Bearer {await scenario.Simulator.MintWebhookTokenAsync()}");

        Assert.All(new[] { first, second, third }, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var deliveries = await Eventually.HoldsAsync(portal.DeliveriesAsync,
            d => d.Any(x => x.ProcessingState == ProcessingStates.Applied), "the delivery applied");
        Assert.Equal([DeliveryResults.Accepted, DeliveryResults.Duplicate, DeliveryResults.Duplicate], deliveries.Select(d => d.Result));
        var subscriptionId = deliveries[0].SubscriptionId!.Value;
        Assert.Single(await portal.EventsForOperationAsync(subscriptionId, operationId));
    }

    /// <summary>A real Suspend in the emulator, for a subscription we know, not delivered by the emulator itself.</summary>
    private static async Task<Guid> GenuineOperationAsync(WebhookScenario scenario, WebhookTestHost portal)
    {
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        scenario.Emulator.Options.WebhookUrl = null;
        return await scenario.Simulator.SuspendAsync(subscriptionId);
    }
}
