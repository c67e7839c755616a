using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Marketplace.Models;

namespace Marketplace.Tests.Emulator;

/// <summary>The /emulator controls a demo presenter uses instead of the real marketplace.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ControlEndpointTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task A_purchase_posted_as_json_returns_the_landing_link_and_shows_on_the_control_page()
    {
        using var response = await fixture.Http.PostAsJsonAsync("emulator/purchases", new { planId = "pro", offerId = "backup-saas", quantity = 4, beneficiary = "bob" });
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var subscriptionId = json.RootElement.GetProperty("subscriptionId").GetGuid();

        var page = await fixture.Http.GetStringAsync("emulator");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("https://portal.example/landing?token=", json.RootElement.GetProperty("landingUrl").GetString());
        Assert.Contains($"data-subscription=\"{subscriptionId}\"", page);
        Assert.Equal("bob@fabrikam.example", fixture.Simulator.Find(subscriptionId)!.Beneficiary!.EmailId);
    }

    [Fact]
    public async Task An_action_posted_for_a_subscription_starts_its_operation()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        using var response = await fixture.Http.PostAsync($"emulator/subscriptions/{purchase.SubscriptionId}/suspend", null);
        var operationId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("operationId").GetGuid();
        using var report = await fixture.Http.GetAsync($"emulator/operations/{operationId}");

        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal(SubscriptionStatus.Suspended, fixture.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task An_action_the_marketplace_would_refuse_is_a_400()
    {
        var purchase = await fixture.PurchaseAsync();

        using var response = await fixture.Http.PostAsync($"emulator/subscriptions/{purchase.SubscriptionId}/reinstate", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Faults_can_be_switched_over_http()
    {
        using var on = await fixture.Http.PutAsJsonAsync("emulator/faults", new { failureRate = 0.25, addedLatencyMs = 5 });
        var rate = fixture.Emulator.Faults.FailureRate;
        using var off = await fixture.Http.PutAsJsonAsync("emulator/faults", new { failureRate = 0, addedLatencyMs = 0 });

        Assert.Equal(0.25, rate);
        Assert.Equal(0, fixture.Emulator.Faults.FailureRate);
        Assert.Equal(TimeSpan.Zero, fixture.Emulator.Faults.AddedLatency);
    }
}
