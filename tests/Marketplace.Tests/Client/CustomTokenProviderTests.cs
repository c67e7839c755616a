using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marketplace.Tests.Client;

/// <summary>
/// A host that brings its own <see cref="IMarketplaceTokenProvider"/> (a managed identity, a token broker) configures
/// only the API it calls: no app registration settings nothing reads, and the same outcome whatever the call order.
/// </summary>
public sealed class CustomTokenProviderTests
{
    private sealed class BrokerTokenProvider : IMarketplaceTokenProvider
    {
        public Task<string> GetAccessTokenAsync(CancellationToken ct = default) => Task.FromResult("broker-token");
    }

    private static void AddClientWithoutCredentials(IServiceCollection services) =>
        services.AddMarketplaceClient(options => options.BaseUri = StubClient.BaseUri);

    public static TheoryData<string> Orders => ["provider first", "client first"];

    private static ServiceProvider Build(string order, Action<IServiceCollection> addProvider)
    {
        var services = new ServiceCollection().AddLogging();
        if (order == "provider first")
        {
            addProvider(services);
            AddClientWithoutCredentials(services);
        }
        else
        {
            AddClientWithoutCredentials(services);
            addProvider(services);
        }

        return services.BuildServiceProvider();
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task A_provider_registered_the_ordinary_way_needs_no_client_credentials(string order)
    {
        await using var provider = Build(order, s => s.AddSingleton<IMarketplaceTokenProvider, BrokerTokenProvider>());

        var options = provider.GetRequiredService<IOptions<MarketplaceClientOptions>>().Value;

        Assert.Equal(StubClient.BaseUri, options.BaseUri);
        Assert.IsType<BrokerTokenProvider>(provider.GetRequiredService<IMarketplaceTokenProvider>());
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task AddMarketplaceTokenProvider_leaves_exactly_that_provider_in_either_order(string order)
    {
        await using var provider = Build(order, s => s.AddMarketplaceTokenProvider<BrokerTokenProvider>());

        var registered = provider.GetServices<IMarketplaceTokenProvider>().ToList();

        Assert.IsType<BrokerTokenProvider>(Assert.Single(registered));
        _ = provider.GetRequiredService<IOptions<MarketplaceClientOptions>>().Value;   // validates: no credentials asked for
    }

    [Fact]
    public async Task Calls_carry_the_custom_providers_token()
    {
        string? authorization = null;
        var stub = new StubHandler((request, _) =>
        {
            authorization = request.Headers.GetValueOrDefault("Authorization");
            return StubHandler.Json(HttpStatusCode.OK, """{"plans":[]}""");
        });
        var services = new ServiceCollection().AddLogging();
        services.AddMarketplaceTokenProvider<BrokerTokenProvider>();
        AddClientWithoutCredentials(services);
        services.AddHttpClient(MarketplaceHttpClients.Fulfillment).ConfigurePrimaryHttpMessageHandler(() => stub);
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IFulfillmentClient>().ListAvailablePlansAsync(Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal("Bearer broker-token", authorization);
    }

    [Fact]
    public async Task Without_a_custom_provider_the_MSAL_settings_are_still_required_and_named()
    {
        var services = new ServiceCollection().AddLogging();
        AddClientWithoutCredentials(services);
        await using var provider = services.BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MarketplaceClientOptions>>().Value);

        Assert.Contains("Marketplace:TenantId", failure.Message);
        Assert.Contains("Marketplace:ClientId", failure.Message);
        Assert.Contains("Marketplace:ClientSecret or Marketplace:CertificatePath", failure.Message);
    }
}
