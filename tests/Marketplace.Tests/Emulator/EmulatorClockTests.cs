using System.Net;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.Time.Testing;

namespace Marketplace.Tests.Emulator;

/// <summary>Behaviour that depends on time, on an emulator of its own driven by a FakeTimeProvider: nothing waits for real.</summary>
public sealed class EmulatorClockTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private RunningEmulator _emulator = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var options = EmulatorFixture.CreateOptions(dataDirectory: null);
        options.OperationDelay = TimeSpan.FromSeconds(30);
        options.AutoAcceptAfter = TimeSpan.FromSeconds(10);
        _emulator = await EmulatorHost.StartAsync(options, _time);
        _http = EmulatorFixture.CreateClient(_emulator);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task A_customer_change_the_publisher_ignores_is_accepted_by_the_marketplace_after_AutoAcceptAfter()
    {
        var purchase = await _emulator.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 2 });
        await ActivateAsync(purchase.SubscriptionId);
        var operationId = await _emulator.Simulator.ChangeQuantityAsync(purchase.SubscriptionId, 8);

        _time.Advance(TimeSpan.FromSeconds(9));
        var before = _emulator.Simulator.FindOperation(operationId)!.Status;
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(OperationStatus.InProgress, before);
        Assert.Equal(OperationStatus.Succeeded, _emulator.Simulator.FindOperation(operationId)!.Status);
        Assert.Equal(8, _emulator.Simulator.Find(purchase.SubscriptionId)!.Quantity);
    }

    [Fact]
    public async Task A_publisher_change_stays_in_progress_until_the_operation_delay_has_passed()
    {
        var purchase = await _emulator.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 2 });
        await ActivateAsync(purchase.SubscriptionId);

        using var patch = await SendAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", """{"planId":"starter"}""");
        var operationId = Guid.Parse(patch.Headers.GetValues("Operation-Id").Single());
        _time.Advance(TimeSpan.FromSeconds(29));
        var before = _emulator.Simulator.FindOperation(operationId)!.Status;
        var planBefore = _emulator.Simulator.Find(purchase.SubscriptionId)!.PlanId;
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(OperationStatus.InProgress, before);
        Assert.Equal("team", planBefore);
        Assert.Equal(OperationStatus.Succeeded, _emulator.Simulator.FindOperation(operationId)!.Status);
        Assert.Equal("starter", _emulator.Simulator.Find(purchase.SubscriptionId)!.PlanId);
        Assert.Null(_emulator.Simulator.Find(purchase.SubscriptionId)!.Quantity);
    }

    [Fact]
    public async Task An_expired_access_token_is_forbidden()
    {
        var token = await EmulatorFixture.RequestAccessTokenAsync(_http, _emulator.Options);

        _time.Advance(_emulator.Options.AccessTokenLifetime + TimeSpan.FromMinutes(1));
        using var response = await SendAsync(HttpMethod.Get, "saas/subscriptions", token: token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_landing_token_older_than_its_lifetime_no_longer_resolves()
    {
        var purchase = await _emulator.Simulator.PurchaseAsync(new PurchaseRequest());

        _time.Advance(_emulator.Options.PurchaseTokenLifetime + TimeSpan.FromSeconds(1));
        using var response = await SendAsync(HttpMethod.Post, "saas/subscriptions/resolve",
            configure: r => r.Headers.Add("x-ms-marketplace-token", purchase.Token));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task ActivateAsync(Guid subscriptionId)
    {
        using var response = await SendAsync(HttpMethod.Post, $"saas/subscriptions/{subscriptionId}/activate");
        response.EnsureSuccessStatusCode();
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, string? token = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, $"api/{path}?api-version={EmulatorFixture.ApiVersion}");
        request.Headers.Authorization = new("Bearer", token ?? await EmulatorFixture.RequestAccessTokenAsync(_http, _emulator.Options));
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        configure?.Invoke(request);
        return await _http.SendAsync(request);
    }
}
