using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Marketplace.Tests.Client;

/// <summary>The token provider against a stub token endpoint: what it asks for, and that it asks once per token lifetime.</summary>
public sealed class MsalMarketplaceTokenProviderTests
{
    private static (IMarketplaceTokenProvider Provider, StubHandler Endpoint) ProviderAgainst(StubHandler endpoint)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMarketplaceClient(options =>
        {
            options.Instance = new Uri("https://login.test/");
            options.TenantId = "publisher-tenant";
            options.ClientId = "portal-client";
            options.ClientSecret = "portal-secret";
            options.DisableInstanceDiscovery = true;
        });
        services.AddHttpClient(MarketplaceHttpClients.Identity).ConfigurePrimaryHttpMessageHandler(() => endpoint);
        return (services.BuildServiceProvider().GetRequiredService<IMarketplaceTokenProvider>(), endpoint);
    }

    private static HttpResponseMessage TokenAnswer(string token) => StubHandler.Json(HttpStatusCode.OK,
        $$"""{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"{{token}}"}""");

    [Fact]
    public async Task Two_calls_ask_the_token_endpoint_once()
    {
        var (provider, endpoint) = ProviderAgainst(new StubHandler((_, attempt) => TokenAnswer($"token-{attempt}")));

        var first = await provider.GetAccessTokenAsync();
        var second = await provider.GetAccessTokenAsync();

        Assert.Equal(("token-1", "token-1"), (first, second));
        Assert.Single(endpoint.Seen, r => r.Uri.AbsolutePath.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_token_is_asked_of_the_tenant_with_client_credentials_for_the_marketplace_scope()
    {
        var (provider, endpoint) = ProviderAgainst(new StubHandler((_, _) => TokenAnswer("t")));

        await provider.GetAccessTokenAsync();

        var request = endpoint.Seen.Single(r => r.Method == HttpMethod.Post);
        var form = request.Body.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
        Assert.Equal("https://login.test/publisher-tenant/oauth2/v2.0/token", request.Uri.GetLeftPart(UriPartial.Path));
        Assert.Equal("client_credentials", form["grant_type"]);
        Assert.Equal("portal-client", form["client_id"]);
        Assert.Equal("20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default", form["scope"]);
    }

    [Fact]
    public async Task A_refused_token_request_becomes_a_marketplace_exception()
    {
        var (provider, _) = ProviderAgainst(new StubHandler((_, _) => StubHandler.Json(HttpStatusCode.Unauthorized,
            """{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}""")));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => provider.GetAccessTokenAsync());

        Assert.Equal(("invalid_client", HttpStatusCode.Unauthorized), (failure.ErrorCode, failure.StatusCode));
    }
}
