using Marketplace.Emulator;
using Marketplace.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Marketplace.Tests.Client;

/// <summary>Counts the requests that pass through it; the identity client gets one so tests can see the token cache work.</summary>
internal sealed class RequestCounter
{
    private int _count;
    public int Count => Volatile.Read(ref _count);
    public void Add() => Interlocked.Increment(ref _count);
}

internal sealed class CountingHandler(RequestCounter counter) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        counter.Add();
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// The client wired exactly as the portal's demo mode wires it against the emulator: its API and identity instance,
/// the demo app registration, instance discovery off, and the emulator's certificate pinned.
/// </summary>
internal sealed class EmulatorClient : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public EmulatorClient(RunningEmulator emulator, IMarketplaceTokenProvider? tokens = null, Action<MarketplaceClientOptions>? configure = null)
    {
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
            configure?.Invoke(options);
        });
        if (tokens is not null)
        {
            services.AddSingleton(tokens);
        }

        services.AddHttpClient(MarketplaceHttpClients.Identity).AddHttpMessageHandler(() => new CountingHandler(TokenRequests));
        services.AddHttpClient(MarketplaceHttpClients.Fulfillment).AddHttpMessageHandler(() => new CountingHandler(ApiRequests));
        _services = services.BuildServiceProvider();
        Client = _services.GetRequiredService<IFulfillmentClient>();
    }

    public IFulfillmentClient Client { get; }
    public RequestCounter TokenRequests { get; } = new();

    /// <summary>Attempts on the wire (below the retry handler), not calls.</summary>
    public RequestCounter ApiRequests { get; } = new();

    public static WebhookTokenValidator CreateValidator(RunningEmulator emulator, TimeProvider? time = null)
    {
        var services = new ServiceCollection().AddLogging();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddMarketplaceWebhookValidation(options =>
        {
            options.PublisherTenantId = emulator.Options.PublisherTenantId;
            options.AudienceClientId = emulator.Options.PortalClientId;
            options.MarketplaceAppId = emulator.Options.MarketplaceAppId;
            options.Instance = emulator.IdentityInstance;
            // The emulator stands in for sts.windows.net as well.
            options.V1IssuerInstances = [emulator.IdentityInstance];
            options.PinnedServerCertificate = emulator.TlsCertificate;
        });
        return services.BuildServiceProvider().GetRequiredService<WebhookTokenValidator>();
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
