using System.Net;
using Marketplace.Emulator;
using Marketplace.Models;
using Marketplace.Tests.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Marketplace.Tests.Metering;

/// <summary>The metering client against the emulator: every call, the 409 path, batches and retrieval.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class MeteringClientTests(EmulatorFixture fixture) : IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private IMeteringClient _client = null!;
    private readonly RequestCounter _requests = new();

    private static DateTimeOffset ThisHour
    {
        get
        {
            var now = TimeProvider.System.GetUtcNow();
            return new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        }
    }

    public Task InitializeAsync()
    {
        var emulator = fixture.Emulator;
        var services = new ServiceCollection().AddLogging();
        services.AddMarketplaceClient(options =>
        {
            options.BaseUri = emulator.ApiBaseUri;
            options.Instance = emulator.IdentityInstance;
            options.TenantId = emulator.Options.PublisherTenantId;
            options.ClientId = emulator.Options.PortalClientId;
            options.ClientSecret = emulator.Options.PortalClientSecret;
            options.MarketplaceAppId = emulator.Options.MarketplaceAppId;
            options.DisableInstanceDiscovery = true;
            options.PinnedServerCertificate = emulator.TlsCertificate;
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
        });
        services.AddHttpClient(MarketplaceHttpClients.Metering).AddHttpMessageHandler(() => new CountingHandler(_requests));
        _services = services.BuildServiceProvider();
        _client = _services.GetRequiredService<IMeteringClient>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private async Task<Guid> SubscribedBusinessAsync() =>
        (await fixture.PurchaseAsync(new PurchaseRequest { PlanId = "business", Quantity = 5 }, activate: true)).SubscriptionId;

    private static UsageEvent Usage(Guid subscriptionId, DateTimeOffset hour, decimal quantity = 2.5m) => new()
    {
        ResourceId = subscriptionId, Dimension = "reports-generated", PlanId = "business", EffectiveStartTime = hour, Quantity = quantity,
    };

    [Fact]
    public async Task Reporting_usage_returns_the_accepted_event()
    {
        var subscriptionId = await SubscribedBusinessAsync();

        var result = await _client.ReportUsageAsync(Usage(subscriptionId, ThisHour.AddHours(-1)), Guid.NewGuid());

        Assert.Equal(UsageEventStatus.Accepted, result.Status);
        Assert.Equal(2.5m, result.Quantity);
        Assert.True(result.IsBilled);
    }

    [Fact]
    public async Task Reporting_the_same_hour_again_returns_the_first_event_as_a_duplicate_not_an_exception()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        var first = await _client.ReportUsageAsync(Usage(subscriptionId, ThisHour.AddHours(-2), 4), Guid.NewGuid());

        var again = await _client.ReportUsageAsync(Usage(subscriptionId, ThisHour.AddHours(-2), 9), Guid.NewGuid());

        Assert.Equal(UsageEventStatus.Duplicate, again.Status);
        Assert.Equal(first.UsageEventId, again.UsageEventId);
        Assert.Equal(4m, again.Quantity);
        Assert.True(again.IsBilled);
    }

    [Fact]
    public async Task A_refused_usage_event_throws_with_the_marketplace_reason()
    {
        var subscriptionId = await SubscribedBusinessAsync();

        var error = await Assert.ThrowsAsync<MarketplaceException>(() =>
            _client.ReportUsageAsync(Usage(subscriptionId, ThisHour.AddHours(-26)), Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("BadArgument", error.ErrorCode);
        Assert.Contains("24 hours", error.ErrorMessage);
    }

    [Fact]
    public async Task A_batch_returns_one_status_per_event()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        await _client.ReportUsageAsync(Usage(subscriptionId, ThisHour.AddHours(-3)), Guid.NewGuid());

        var batch = await _client.ReportUsageBatchAsync(
            [Usage(subscriptionId, ThisHour.AddHours(-4)), Usage(subscriptionId, ThisHour.AddHours(-3)), Usage(subscriptionId, ThisHour.AddHours(-40))],
            Guid.NewGuid());

        Assert.Equal([UsageEventStatus.Accepted, UsageEventStatus.Duplicate, UsageEventStatus.Expired], batch.Result.Select(r => r.Status));
    }

    [Fact]
    public async Task A_batch_of_26_throws_before_anything_is_sent()
    {
        var subscriptionId = Guid.NewGuid();
        var usage = Enumerable.Range(0, 26).Select(i => Usage(subscriptionId, ThisHour.AddHours(-i))).ToList();

        await Assert.ThrowsAsync<ArgumentException>(() => _client.ReportUsageBatchAsync(usage, Guid.NewGuid()));

        Assert.Equal(0, _requests.Count);
    }

    [Fact]
    public async Task Reported_usage_is_read_back_for_a_subscription()
    {
        var subscriptionId = await SubscribedBusinessAsync();
        await _client.ReportUsageBatchAsync([Usage(subscriptionId, ThisHour.AddHours(-5), 1), Usage(subscriptionId, ThisHour.AddHours(-4), 2)], Guid.NewGuid());

        var reported = await _client.GetReportedUsageAsync(
            new ReportedUsageQuery { UsageStartDate = ThisHour.AddHours(-6), ResourceId = subscriptionId, Dimension = "reports-generated" }, Guid.NewGuid());

        Assert.Equal([1m, 2m], reported.Select(r => r.SubmittedQuantity));
    }
}

/// <summary>The retry decision for usage calls (see MeteringClient's remarks), against a stub that fails on purpose.</summary>
public sealed class MeteringClientRetryTests
{
    private static readonly UsageEvent Usage = new()
    {
        ResourceId = Guid.Parse("6a1b0000-0000-4000-8000-000000000001"), Dimension = "reports-generated", PlanId = "business",
        EffectiveStartTime = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), Quantity = 3,
    };

    private static (IMeteringClient Client, ServiceProvider Services) Client(StubHandler stub)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMarketplaceClient(options =>
        {
            options.BaseUri = StubClient.BaseUri;
            options.TenantId = "tenant";
            options.ClientId = "client";
            options.ClientSecret = "secret";
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
        });
        services.AddSingleton<IMarketplaceTokenProvider>(new FixedTokenProvider("stub-access-token"));
        services.AddHttpClient(MarketplaceHttpClients.Metering).ConfigurePrimaryHttpMessageHandler(() => stub);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IMeteringClient>(), provider);
    }

    [Fact]
    public async Task A_usage_post_that_failed_with_500_is_retried_and_the_409_of_the_retry_reads_as_billed_once()
    {
        // The first attempt was recorded by the marketplace before it failed; the retry meets the hourly dedup.
        const string conflict = """
            {"additionalInfo":{"acceptedMessage":{"usageEventId":"11111111-2222-4333-8444-555555555555","status":"Duplicate",
              "messageTime":"2026-11-01T08:59:00Z","resourceId":"6a1b0000-0000-4000-8000-000000000001","quantity":3,
              "dimension":"reports-generated","effectiveStartTime":"2026-11-01T08:00:00Z","planId":"business"}},
             "message":"This usage event already exist.","code":"Conflict"}
            """;
        var stub = new StubHandler((_, attempt) => attempt == 1
            ? StubHandler.Json(HttpStatusCode.InternalServerError, """{"code":"InternalServerError","message":"boom"}""")
            : StubHandler.Json(HttpStatusCode.Conflict, conflict));
        var (client, services) = Client(stub);
        await using var owned = services;

        var result = await client.ReportUsageAsync(Usage, Guid.NewGuid());

        Assert.Equal(UsageEventStatus.Duplicate, result.Status);
        Assert.Equal(Guid.Parse("11111111-2222-4333-8444-555555555555"), result.UsageEventId);
        Assert.Equal(2, stub.Seen.Count);
        Assert.Equal(stub.Seen[0].Body, stub.Seen[1].Body);
        Assert.Equal(stub.Seen[0].Headers["x-ms-correlationid"], stub.Seen[1].Headers["x-ms-correlationid"]);
    }

    [Fact]
    public async Task A_usage_post_sends_the_contract_headers_and_body()
    {
        var stub = new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.OK,
            """{"usageEventId":"11111111-2222-4333-8444-555555555555","status":"Accepted","resourceId":"6a1b0000-0000-4000-8000-000000000001","quantity":3,"dimension":"reports-generated","effectiveStartTime":"2026-11-01T08:00:00Z","planId":"business"}"""));
        var (client, services) = Client(stub);
        await using var owned = services;
        var correlation = Guid.NewGuid();

        await client.ReportUsageAsync(Usage, correlation);

        var seen = Assert.Single(stub.Seen);
        Assert.Equal("https://marketplace.test/api/usageEvent?api-version=2018-08-31", seen.Uri.ToString());
        Assert.Equal("Bearer stub-access-token", seen.Headers["Authorization"]);
        Assert.Equal(correlation.ToString(), seen.Headers["x-ms-correlationid"]);
        Assert.True(Guid.TryParse(seen.Headers["x-ms-requestid"], out _));
        Assert.StartsWith("application/json", seen.ContentType);
        Assert.Contains("\"resourceId\":\"6a1b0000-0000-4000-8000-000000000001\"", seen.Body);
        Assert.Contains("\"effectiveStartTime\":\"2026-11-01T08:00:00+00:00\"", seen.Body);
    }

    [Fact]
    public async Task A_409_without_an_accepted_event_is_an_error_not_a_silent_success()
    {
        var stub = new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.Conflict, """{"code":"Conflict","message":"something else"}"""));
        var (client, services) = Client(stub);
        await using var owned = services;

        var error = await Assert.ThrowsAsync<MarketplaceException>(() => client.ReportUsageAsync(Usage, Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Conflict, error.StatusCode);
    }
}
