using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using Marketplace.Emulator;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Marketplace.Tests.Emulator;

/// <summary>The Entra-like side: metadata, keys, instance discovery, the demo sign-in and code redemption.</summary>
[Collection(EmulatorCollection.Name)]
public sealed partial class IdentityTests(EmulatorFixture fixture)
{
    private const string RedirectUri = "https://localhost:5001/signin-oidc";

    [Fact]
    public async Task Metadata_sends_browsers_to_http_and_back_channel_callers_to_https()
    {
        using var metadata = await JsonAsync($"{fixture.Options.PublisherTenantId}/v2.0/.well-known/openid-configuration");
        var root = metadata.RootElement;
        var https = fixture.Emulator.HttpsBaseUri.ToString();
        var http = fixture.Emulator.HttpBaseUri.ToString();

        Assert.Equal($"{https}{fixture.Options.PublisherTenantId}/v2.0", root.GetProperty("issuer").GetString());
        Assert.StartsWith(http, root.GetProperty("authorization_endpoint").GetString());
        Assert.StartsWith(http, root.GetProperty("end_session_endpoint").GetString());
        Assert.StartsWith(https, root.GetProperty("token_endpoint").GetString());
        Assert.StartsWith(https, root.GetProperty("jwks_uri").GetString());
    }

    [Fact]
    public async Task The_organizations_metadata_publishes_the_tenant_id_issuer_template()
    {
        using var metadata = await JsonAsync("organizations/v2.0/.well-known/openid-configuration");

        Assert.Equal($"{fixture.Emulator.HttpsBaseUri}{{tenantid}}/v2.0", metadata.RootElement.GetProperty("issuer").GetString());
    }

    [Fact]
    public async Task Instance_discovery_names_the_emulator_as_its_own_alias()
    {
        using var discovery = await JsonAsync($"common/discovery/instance?api-version=1.1&authorization_endpoint={Uri.EscapeDataString(fixture.Emulator.HttpsBaseUri + "common/oauth2/v2.0/authorize")}");
        var aliases = discovery.RootElement.GetProperty("metadata")[0].GetProperty("aliases").EnumerateArray().Select(a => a.GetString());

        Assert.Equal([fixture.Emulator.HttpsBaseUri.Authority], aliases);
    }

    [Fact]
    public async Task The_sign_in_page_offers_every_demo_identity_as_a_button()
    {
        var page = await fixture.Http.GetStringAsync(AuthorizeQuery("query"));

        Assert.Contains("Sign in to the marketplace emulator", page);
        foreach (var person in DemoIdentities.All)
        {
            Assert.Contains($"data-identity=\"{person.Key}\"", page);
        }
    }

    [Fact]
    public async Task Signing_in_as_Ada_redeems_a_code_for_an_id_token_with_her_roles_and_the_nonce()
    {
        var nonce = Guid.NewGuid().ToString("N");
        var (code, state) = await SignInAsync("ada", "query", nonce);

        using var tokens = await RedeemAsync(code);
        var idToken = new JsonWebToken(tokens.RootElement.GetProperty("id_token").GetString());
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(idToken.EncodedToken, new TokenValidationParameters
        {
            ValidIssuer = $"{fixture.Emulator.HttpsBaseUri}{DemoIdentities.PublisherTenantId}/v2.0",
            ValidAudience = fixture.Options.PortalClientId,
            IssuerSigningKeys = new JsonWebKeySet(await fixture.Http.GetStringAsync("common/discovery/v2.0/keys")).GetSigningKeys(),
        });

        Assert.True(validation.IsValid, validation.Exception?.Message);
        Assert.Equal("the-state", state);
        Assert.Equal(nonce, idToken.GetClaim("nonce").Value);
        Assert.Equal(DemoIdentities.Ada.ObjectId.ToString(), idToken.GetClaim("oid").Value);
        Assert.Equal("ada@publisher.example", idToken.GetClaim("preferred_username").Value);
        Assert.Equal(["Admin", "Operator"], idToken.Claims.Where(c => c.Type == "roles").Select(c => c.Value));
        Assert.True(tokens.RootElement.GetProperty("expires_in").GetInt64() > 0);
    }

    [Fact]
    public async Task A_code_is_redeemed_only_once()
    {
        var (code, _) = await SignInAsync("alice", "query", nonce: null);
        using var first = await RedeemAsync(code);

        using var second = await fixture.Http.PostAsync($"organizations/oauth2/v2.0/token", RedemptionForm(code));

        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
    }

    [Fact]
    public async Task Form_post_answers_with_a_self_submitting_form_to_the_redirect_uri()
    {
        using var answer = await PostSignInAsync("mallory", "form_post", nonce: null);
        var html = await answer.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains($"action=\"{RedirectUri}\"", html);
        Assert.Contains("name=\"code\"", html);
        Assert.Contains("name=\"state\" value=\"the-state\"", html);
    }

    [Fact]
    public async Task Sign_out_returns_to_the_post_logout_redirect_uri()
    {
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Emulator.HttpBaseUri };

        using var response = await noRedirects.GetAsync($"common/oauth2/v2.0/logout?post_logout_redirect_uri={Uri.EscapeDataString("https://localhost:5001/signout-callback-oidc")}&state=s1");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("https://localhost:5001/signout-callback-oidc?state=s1", response.Headers.Location!.ToString());
    }

    private async Task<(string Code, string? State)> SignInAsync(string identity, string responseMode, string? nonce)
    {
        using var answer = await PostSignInAsync(identity, responseMode, nonce);
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var query = HttpUtility.ParseQueryString(answer.Headers.Location!.Query);
        return (query["code"]!, query["state"]);
    }

    /// <summary>Reads the page as a browser would, then submits the chosen identity's button with the page's hidden fields.</summary>
    private async Task<HttpResponseMessage> PostSignInAsync(string identity, string responseMode, string? nonce)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Emulator.HttpBaseUri };
        var page = await browser.GetStringAsync(AuthorizeQuery(responseMode, nonce));
        var fields = HiddenField().Matches(page).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["identity"] = identity;
        return await browser.PostAsync("organizations/oauth2/v2.0/authorize", new FormUrlEncodedContent(fields));
    }

    private string AuthorizeQuery(string responseMode, string? nonce = null) =>
        $"organizations/oauth2/v2.0/authorize?client_id={fixture.Options.PortalClientId}&response_type=code&response_mode={responseMode}" +
        $"&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope={Uri.EscapeDataString("openid profile offline_access")}&state=the-state" +
        (nonce is null ? "" : $"&nonce={nonce}");

    private async Task<JsonDocument> RedeemAsync(string code)
    {
        using var response = await fixture.Http.PostAsync("organizations/oauth2/v2.0/token", RedemptionForm(code));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private FormUrlEncodedContent RedemptionForm(string code) => new(new Dictionary<string, string>
    {
        ["grant_type"] = "authorization_code",
        ["code"] = code,
        ["redirect_uri"] = RedirectUri,
        ["client_id"] = fixture.Options.PortalClientId,
        ["client_secret"] = fixture.Options.PortalClientSecret,
    });

    private async Task<JsonDocument> JsonAsync(string path) => JsonDocument.Parse(await fixture.Http.GetStringAsync(path));

    [GeneratedRegex("""<input type="hidden" name="([^"]+)" value="([^"]*)">""")]
    private static partial Regex HiddenField();
}
