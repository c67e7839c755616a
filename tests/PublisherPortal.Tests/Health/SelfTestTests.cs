using System.Net;
using Dapper;
using Marketplace;
using Marketplace.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using PublisherPortal.Data;
using PublisherPortal.Health;
using PublisherPortal.Tests.Support;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Health;

/// <summary>The emulator's signed test delivery through our real webhook endpoint, inbox and processor.</summary>
public sealed class SelfTestTests
{
    [Fact]
    public async Task The_emulators_test_delivery_is_validated_stored_as_a_test_and_never_applied()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var host = await scenario.StartPortalAsync(services: s => s.AddHealthServices(new ConfigurationBuilder().Build()));

        var outcome = await host.Services.GetRequiredService<WebhookSelfTest>().RunAsync();

        Assert.Equal(HealthState.Healthy, outcome.State);
        var stored = Assert.Single(await host.DeliveriesAsync());
        Assert.Equal(WebhookTestDelivery.Action, stored.Action);
        Assert.Equal(DeliveryResults.Accepted, stored.Result);
        Assert.True(stored.IsTest);
        Assert.Equal(ProcessingStates.Ignored, stored.ProcessingState);
        await using var connection = await scenario.Database.OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscriptions"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscription_events"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM acknowledgements"));
    }

    [Fact]
    public async Task A_self_test_against_a_webhook_that_refuses_the_token_fails_and_says_what_it_answered()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        // Our side expects another tenant: exactly the misconfiguration the self-test exists to catch.
        var host = await scenario.StartPortalAsync(
            settings: new Dictionary<string, string?> { ["PublisherTenantId"] = Guid.NewGuid().ToString() },
            services: s => s.AddHealthServices(new ConfigurationBuilder().Build()));

        var outcome = await host.Services.GetRequiredService<WebhookSelfTest>().RunAsync();

        Assert.Equal(HealthState.Failing, outcome.State);
        Assert.Contains(outcome.Steps, s => s.Contains("answered 401"));
        Assert.Equal(DeliveryResults.Unauthorized, Assert.Single(await host.DeliveriesAsync()).Result);
    }

    [Fact]
    public void A_real_action_is_never_taken_for_a_test()
    {
        Assert.False(WebhookTestDelivery.IsTest("ChangePlan"));
        Assert.False(WebhookTestDelivery.IsTest(null));
        Assert.False(WebhookTestDelivery.IsTest("publisherportalselftest"));
        Assert.True(WebhookTestDelivery.IsTest(WebhookTestDelivery.Action));
    }
}

/// <summary>/healthz stays liveness; /healthz/ready reports database and token, and nothing secret.</summary>
public sealed class ReadinessProbeTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Ready_reports_database_and_token_without_the_token()
    {
        var tokens = new StubTokenProvider { Answer = () => new MarketplaceAccessToken("eyJ.secret.token", DateTimeOffset.UtcNow.AddHours(1)) };
        await using var app = await StartAsync(tokens);
        using var http = new HttpClient { BaseAddress = app.Uri };

        var ready = await http.GetAsync("/healthz/ready");
        var body = await ready.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"database\":{\"status\":\"Healthy\"", body);
        Assert.Contains("\"marketplace-token\":{\"status\":\"Healthy\"", body);
        Assert.DoesNotContain("eyJ", body);
    }

    [Fact]
    public async Task No_token_degrades_readiness_but_liveness_stays_healthy()
    {
        var tokens = new StubTokenProvider
        {
            Answer = () => throw new MarketplaceException(HttpStatusCode.Unauthorized, "invalid_client", "AADSTS7000215 secret abc", ""),
        };
        await using var app = await StartAsync(tokens);
        using var http = new HttpClient { BaseAddress = app.Uri };

        var ready = await http.GetAsync("/healthz/ready");
        var body = await ready.Content.ReadAsStringAsync();
        var live = await http.GetAsync("/healthz");

        // Degraded answers 200: the webhook must stay reachable while Entra is unavailable (docs/marketplace.md#answering-deliveries).
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"status\":\"Degraded\"", body);
        Assert.DoesNotContain("AADSTS", body);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync());
    }

    private async Task<ProbeHost> StartAsync(IMarketplaceTokenProvider tokens)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_db.Database);
        builder.Services.AddSingleton(tokens);
        builder.Services.AddRouting();
        builder.Services.AddHealthServices(new ConfigurationBuilder().Build());
        // The scheduled monitor is not what these tests are about.
        builder.Services.RemoveAll<Microsoft.Extensions.Hosting.IHostedService>();
        var app = builder.Build();
        app.MapHealthEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ProbeHost(app, new Uri(address));
    }

    private sealed record ProbeHost(WebApplication App, Uri Uri) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
