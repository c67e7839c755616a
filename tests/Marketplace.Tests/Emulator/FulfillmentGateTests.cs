using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Marketplace.Emulator;

namespace Marketplace.Tests.Emulator;

/// <summary>What every fulfillment call passes before its handler: token, api-version, request ids, faults.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class FulfillmentGateTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task A_call_without_a_bearer_token_is_forbidden()
    {
        using var response = await fixture.Http.GetAsync($"api/saas/subscriptions?api-version={EmulatorFixture.ApiVersion}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Forbidden", await ErrorCodeAsync(response));
    }

    [Fact]
    public async Task A_call_with_a_token_the_emulator_did_not_sign_is_forbidden()
    {
        var foreign = await fixture.Simulator.MintWebhookTokenAsync(new WebhookTokenOverrides
        {
            Audience = fixture.Options.MarketplaceAppId,
            SignWithUnknownKey = true,
        });

        using var response = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions", token: foreign);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_forbidden()
    {
        // A webhook token is signed by the emulator but meant for the portal, not the marketplace.
        var forThePortal = await fixture.Simulator.MintWebhookTokenAsync();

        using var response = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions", token: forThePortal);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_missing_api_version_is_a_400_in_the_capitalised_error_shape()
    {
        using var response = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions?x=1");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("MissingApiVersionParameter", json.RootElement.GetProperty("Error").GetProperty("Code").GetString());
    }

    [Fact]
    public async Task An_unknown_api_version_is_a_400()
    {
        using var response = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions?api-version=2099-01-01");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("InvalidApiVersionParameter", json.RootElement.GetProperty("Error").GetProperty("Code").GetString());
    }

    [Fact]
    public async Task Request_and_correlation_ids_are_echoed()
    {
        var requestId = Guid.NewGuid().ToString();
        var correlationId = Guid.NewGuid().ToString();

        using var response = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions", configure: r =>
        {
            r.Headers.Add("x-ms-requestid", requestId);
            r.Headers.Add("x-ms-correlationid", correlationId);
        });

        Assert.Equal(requestId, response.Headers.GetValues("x-ms-requestid").Single());
        Assert.Equal(correlationId, response.Headers.GetValues("x-ms-correlationid").Single());
    }

    [Fact]
    public async Task A_request_id_is_made_up_when_the_caller_sends_none()
    {
        using var response = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions");

        Assert.True(Guid.TryParse(response.Headers.GetValues("x-ms-requestid").Single(), out _));
    }

    [Fact]
    public async Task Injected_faults_answer_the_api_with_429_or_500_but_never_the_token_endpoint()
    {
        var token = await fixture.GetAccessTokenAsync();
        fixture.Emulator.Faults.FailureRate = 1;
        try
        {
            using var api = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions", token: token);
            var freshToken = await EmulatorFixture.RequestAccessTokenAsync(fixture.Http, fixture.Options);

            Assert.Contains((int)api.StatusCode, new[] { 429, 500 });
            if (api.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal(TimeSpan.FromSeconds(1), api.Headers.RetryAfter?.Delta);
            }

            Assert.False(string.IsNullOrEmpty(freshToken));
        }
        finally
        {
            fixture.Emulator.Faults.FailureRate = 0;
        }
    }

    [Fact]
    public async Task A_wrong_client_secret_gets_no_token()
    {
        using var response = await fixture.Http.PostAsync($"{fixture.Options.PublisherTenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = fixture.Options.PortalClientId,
            ["client_secret"] = "wrong",
            ["scope"] = $"{fixture.Options.MarketplaceAppId}/.default",
        }));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_v1_token_endpoint_issues_a_token_for_the_marketplace_resource()
    {
        using var response = await fixture.Http.PostAsync($"{fixture.Options.PublisherTenantId}/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = fixture.Options.PortalClientId,
            ["client_secret"] = fixture.Options.PortalClientSecret,
            ["resource"] = fixture.Options.MarketplaceAppId,
        }));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        using var call = await fixture.ApiAsync(HttpMethod.Get, "saas/subscriptions", token: json.RootElement.GetProperty("access_token").GetString());

        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
    }

    [Fact]
    public async Task The_http_endpoint_serves_the_same_routes_without_tls()
    {
        using var plain = new HttpClient { BaseAddress = fixture.Emulator.HttpBaseUri };
        plain.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.GetAccessTokenAsync());

        using var response = await plain.GetAsync($"api/saas/subscriptions?api-version={EmulatorFixture.ApiVersion}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_trusting_handler_refuses_a_different_certificate()
    {
        await using var other = await EmulatorHost.StartAsync(EmulatorFixture.CreateOptions(dataDirectory: null));
        using var trustsFixtureOnly = new HttpClient(fixture.Emulator.CreateTrustingHandler());

        await Assert.ThrowsAsync<HttpRequestException>(() => trustsFixtureOnly.GetAsync(new Uri(other.HttpsBaseUri, "common/discovery/keys")));
    }

    internal static async Task<string?> ErrorCodeAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("error").GetProperty("code").GetString();
    }
}
