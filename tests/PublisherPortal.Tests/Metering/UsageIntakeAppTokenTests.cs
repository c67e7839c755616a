using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;
using PublisherPortal.Metering;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Metering;

/// <summary>
/// POST /api/usage in real mode: the publisher's product proves itself with an Entra app token. The portal is hosted on
/// Kestrel with AddMetering's real-mode JwtBearer configuration, whose authority (AzureAd:Instance + Metering:TenantId)
/// is the emulator's Entra-like identity side: metadata and signing keys come over https from there, and every token
/// here is signed by the emulator's key. The one test-only setting is trust in the emulator's self-made TLS certificate
/// for that metadata download (in production the authority is login.microsoftonline.com with a public certificate).
/// </summary>
public sealed class UsageIntakeAppTokenTests : IAsyncLifetime
{
    /// <summary>The publisher's product: its own app registration, allowed to report usage.</summary>
    private const string ProductAppId = "7d1b2c3e-0000-4000-8000-0000000000a1";

    private TestDatabase _db = null!;
    private RunningEmulator _emulator = null!;
    private IntakeHost _host = null!;
    private readonly Guid _business = Guid.NewGuid();

    private string PortalClientId => _emulator.Options.PortalClientId;
    private string PublisherTenant => _emulator.Options.PublisherTenantId;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        // JwtBearer checks token lifetimes against the machine's clock, and the emulator signs with it; the portal's own
        // clock (the intake's "within the last 24 hours") is the test's, set to the same moment.
        _db.Time.SetUtcNow(TimeProvider.System.GetUtcNow());
        await MeteringHarness.SeedPlansAsync(_db);
        await using (var connection = await _db.Database.OpenAsync())
        await using (var tx = await _db.Database.BeginWriteAsync(connection))
        {
            await new SubscriptionStore(_db.Database, _db.Time).RecordFromMarketplaceAsync(
                Samples.Subscription(_business, SubscriptionStatus.Subscribed, planId: "business"), connection, tx);
            await tx.CommitAsync();
        }

        _emulator = await EmulatorHost.StartAsync(new EmulatorOptions());

        var emulator = _emulator;
        _host = await IntakeHost.StartAsync(_db, new Dictionary<string, string?>
        {
            ["Portal:Mode"] = "Real",
            ["AzureAd:Instance"] = _emulator.IdentityInstance.ToString(),
            ["AzureAd:ClientId"] = PortalClientId,
            ["Metering:TenantId"] = PublisherTenant,
            ["Metering:AllowedClientAppIds:0"] = ProductAppId,
            // The portal's own client id is allowed too, so the emulator's user token below (which only the portal's
            // sign-in can get) is refused for being a person's token, not for naming the wrong app.
            ["Metering:AllowedClientAppIds:1"] = PortalClientId,
            // A key configured by mistake in real mode must still open nothing.
            ["Metering:ApiKeys:" + MeteringAuthentication.DemoKeyName] = MeteringAuthentication.DemoKey,
        },
        // Transport only: the metadata and keys are fetched from the emulator, whose certificate is its own.
        builder => builder.Services.Configure<JwtBearerOptions>(MeteringAuthentication.AppTokenScheme, o => o.BackchannelHttpHandler = emulator.CreateTrustingHandler()));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _emulator.DisposeAsync();
        await _db.DisposeAsync();
    }

    /// <summary>An app-only (client credentials) token as Entra issues it, signed by the emulator; overrides make it wrong.</summary>
    private Task<string> AppTokenAsync(WebhookTokenOverrides? wrong = null) =>
        _emulator.Simulator.MintWebhookTokenAsync((wrong ?? new WebhookTokenOverrides()) with
        {
            Audience = wrong?.Audience ?? PortalClientId,
            AppId = wrong?.AppId ?? ProductAppId,
        });

    private Task<HttpResponseMessage> PostUsageAsync(Action<HttpRequestMessage> authenticate, string key = "k-1")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/usage")
        {
            Content = new StringContent(JsonSerializer.Serialize(new
            {
                subscriptionId = _business,
                dimension = "reports-generated",
                quantity = 3,
                occurredAt = _db.Time.GetUtcNow().AddMinutes(-10).ToString("O"),
                idempotencyKey = key,
            }), Encoding.UTF8, "application/json"),
        };
        authenticate(request);
        return _host.Http.SendAsync(request);
    }

    private static Action<HttpRequestMessage> Bearer(string token) =>
        request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

    private async Task<string[]> RecordedSourcesAsync()
    {
        await using var connection = await _db.Database.OpenAsync();
        return (await connection.QueryAsync<string>("SELECT source FROM usage_records ORDER BY id")).ToArray();
    }

    [Fact]
    public async Task An_allowed_apps_token_for_the_portal_is_accepted_and_the_usage_recorded_in_its_name()
    {
        using var response = await PostUsageAsync(Bearer(await AppTokenAsync()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_business, (await response.Content.ReadFromJsonAsync<UsageReceipt>())!.SubscriptionId);
        Assert.Equal(["app:" + ProductAppId], await RecordedSourcesAsync());
    }

    [Fact]
    public async Task The_audience_may_be_the_portals_application_id_uri()
    {
        using var response = await PostUsageAsync(Bearer(await AppTokenAsync(new WebhookTokenOverrides { Audience = "api://" + PortalClientId })));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_v1_token_from_entras_sts_issuer_is_accepted()
    {
        // An app registration gets v1 access tokens unless its manifest asks for v2: issuer https://sts.windows.net/{tenant}/.
        var token = await AppTokenAsync(new WebhookTokenOverrides { Issuer = $"https://sts.windows.net/{PublisherTenant}/" });

        using var response = await PostUsageAsync(Bearer(token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_401_and_nothing_is_recorded()
    {
        // The marketplace's own resource: a token the product holds for another API must not open ours.
        var token = await AppTokenAsync(new WebhookTokenOverrides { Audience = _emulator.Options.MarketplaceAppId });

        using var response = await PostUsageAsync(Bearer(token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await RecordedSourcesAsync());
    }

    [Fact]
    public async Task An_expired_token_is_401()
    {
        // Expired an hour ago: well past the handler's five minutes of clock skew.
        var token = await AppTokenAsync(new WebhookTokenOverrides { IssuedAt = TimeProvider.System.GetUtcNow().AddHours(-2), Lifetime = TimeSpan.FromHours(1) });

        using var response = await PostUsageAsync(Bearer(token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await RecordedSourcesAsync());
    }

    [Fact]
    public async Task A_token_not_signed_by_the_tenants_keys_is_401()
    {
        using var response = await PostUsageAsync(Bearer(await AppTokenAsync(new WebhookTokenOverrides { SignWithUnknownKey = true })));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_token_issued_by_another_tenant_is_401()
    {
        using var response = await PostUsageAsync(Bearer(await AppTokenAsync(new WebhookTokenOverrides { TenantId = "0b1c2d3e-0000-4000-8000-00000000beef" })));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_valid_token_of_an_app_not_allowed_to_report_usage_is_403_and_nothing_is_recorded()
    {
        var token = await AppTokenAsync(new WebhookTokenOverrides { AppId = "9e9e9e9e-0000-4000-8000-000000000bad" });

        using var response = await PostUsageAsync(Bearer(token));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await RecordedSourcesAsync());
    }

    [Fact]
    public async Task A_persons_delegated_token_is_refused_even_from_an_allowed_app()
    {
        var token = await UserAccessTokenAsync("olivia");

        using var response = await PostUsageAsync(Bearer(token));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await RecordedSourcesAsync());
    }

    [Fact]
    public async Task The_demo_api_key_opens_nothing_in_real_mode()
    {
        using var response = await PostUsageAsync(r => r.Headers.Add(MeteringAuthentication.ApiKeyHeader, MeteringAuthentication.DemoKey));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await RecordedSourcesAsync());
    }

    /// <summary>
    /// A person's access token for the portal, got the way the portal's sign-in gets one: the emulator's authorize
    /// endpoint (the demo identity's button) and the authorization-code grant. It carries scp and azp = the portal.
    /// </summary>
    private async Task<string> UserAccessTokenAsync(string identity)
    {
        var handler = (SocketsHttpHandler)_emulator.CreateTrustingHandler();
        handler.AllowAutoRedirect = false;
        using var identityHttp = new HttpClient(handler) { BaseAddress = _emulator.IdentityInstance };
        const string RedirectUri = "https://127.0.0.1/signin-oidc";

        using var signedIn = await identityHttp.PostAsync($"{PublisherTenant}/oauth2/v2.0/authorize", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["identity"] = identity,
            ["client_id"] = PortalClientId,
            ["redirect_uri"] = RedirectUri,
            ["scope"] = "openid profile",
            ["response_type"] = "code",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var code = System.Web.HttpUtility.ParseQueryString(signedIn.Headers.Location!.Query)["code"]!;

        using var tokens = await identityHttp.PostAsync($"{PublisherTenant}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = PortalClientId,
            ["client_secret"] = _emulator.Options.PortalClientSecret,
            ["code"] = code,
            ["redirect_uri"] = RedirectUri,
        }));
        tokens.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await tokens.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
