using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marketplace.Tests.Client;

/// <summary>A token provider that hands out a fixed string: a real-looking one, or garbage for the 403 tests.</summary>
internal sealed class FixedTokenProvider(string token) : IMarketplaceTokenProvider
{
    public Task<string> GetAccessTokenAsync(CancellationToken ct = default) => Task.FromResult(token);
}

/// <summary>The client as the portal registers it, with its network replaced by a <see cref="StubHandler"/>.</summary>
internal sealed class StubClient : IAsyncDisposable
{
    public static readonly Uri BaseUri = new("https://marketplace.test/api/");

    private readonly ServiceProvider _services;

    /// <param name="appClock">The application's clock, when a test keeps its records by a clock of its own.</param>
    public StubClient(StubHandler stub, Action<MarketplaceClientOptions>? configure = null, TimeProvider? appClock = null)
    {
        Stub = stub;
        var services = new ServiceCollection();
        services.AddLogging();
        if (appClock is not null)
        {
            services.AddSingleton(appClock);
        }

        services.AddMarketplaceClient(options =>
        {
            options.BaseUri = BaseUri;
            options.TenantId = "tenant";
            options.ClientId = "client";
            options.ClientSecret = "secret";
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            configure?.Invoke(options);
        });
        services.AddSingleton<IMarketplaceTokenProvider>(new FixedTokenProvider("stub-access-token"));
        services.AddHttpClient(MarketplaceHttpClients.Fulfillment).ConfigurePrimaryHttpMessageHandler(() => stub);
        _services = services.BuildServiceProvider();
        Client = _services.GetRequiredService<IFulfillmentClient>();
        Options = _services.GetRequiredService<IOptions<MarketplaceClientOptions>>().Value;
    }

    public StubHandler Stub { get; }
    public IFulfillmentClient Client { get; }
    public MarketplaceClientOptions Options { get; }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
