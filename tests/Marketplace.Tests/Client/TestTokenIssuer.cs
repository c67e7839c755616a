using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Marketplace.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Marketplace.Tests.Client;

/// <summary>
/// A miniature Entra tenant for validator tests: OpenID metadata and keys served by a stub handler, and tokens
/// signed with those keys (or any other) carrying exactly the claims a test wants.
/// </summary>
internal sealed class TestTokenIssuer
{
    public const string Tenant = "72f988bf-0000-4000-8000-00000000c0de";
    public const string PortalClientId = "5f1a0c2e-0000-4000-8000-000000000001";
    public const string MarketplaceAppId = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7";
    public static readonly Uri Instance = new("https://login.test/");
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<RsaSecurityKey> _published = [NewKey("key-1")];

    public TestTokenIssuer()
    {
        Metadata = new StubHandler((request, _) => Answer(request));
    }

    public StubHandler Metadata { get; }
    public FakeTimeProvider Time { get; } = new(Now);
    public RsaSecurityKey SigningKey => _published[0];

    public static RsaSecurityKey NewKey(string keyId) => new(RSA.Create(2048)) { KeyId = keyId };

    /// <summary>Entra rolls a new key over: from now on the metadata lists it too.</summary>
    public void Publish(RsaSecurityKey key) => _published.Add(key);

    public string V2Issuer => $"{Instance}{Tenant}/v2.0";

    public string Mint(
        string? issuer = null,
        string? audience = null,
        string? tenant = Tenant,
        string? appIdClaim = "azp",
        string appId = MarketplaceAppId,
        DateTimeOffset? issuedAt = null,
        TimeSpan? lifetime = null,
        SecurityKey? key = null)
    {
        var issued = issuedAt ?? Now.AddMinutes(-5);
        var claims = new Dictionary<string, object>();
        if (tenant is not null) claims["tid"] = tenant;
        if (appIdClaim is not null) claims[appIdClaim] = appId;

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? V2Issuer,
            Audience = audience ?? PortalClientId,
            Claims = claims,
            IssuedAt = issued.UtcDateTime,
            NotBefore = issued.UtcDateTime,
            Expires = issued.Add(lifetime ?? TimeSpan.FromHours(1)).UtcDateTime,
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.RsaSha256),
        });
    }

    public WebhookTokenValidator CreateValidator(Action<WebhookValidationOptions>? configure = null)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(Time);
        services.AddMarketplaceWebhookValidation(options =>
        {
            options.PublisherTenantId = Tenant;
            options.AudienceClientId = PortalClientId;
            options.Instance = Instance;
            configure?.Invoke(options);
        });
        services.AddHttpClient(MarketplaceHttpClients.WebhookMetadata).ConfigurePrimaryHttpMessageHandler(() => Metadata);
        return services.BuildServiceProvider().GetRequiredService<WebhookTokenValidator>();
    }

    private HttpResponseMessage Answer(SeenRequest request)
    {
        if (request.Uri.Host != Instance.Host)
        {
            throw new HttpRequestException("No such host", null, HttpStatusCode.NotFound);
        }

        if (request.Uri.AbsolutePath == $"/{Tenant}/v2.0/.well-known/openid-configuration")
        {
            return StubHandler.Json(HttpStatusCode.OK, JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["issuer"] = V2Issuer,
                ["jwks_uri"] = $"{Instance}{Tenant}/discovery/v2.0/keys",
            }));
        }

        if (request.Uri.AbsolutePath == $"/{Tenant}/discovery/v2.0/keys")
        {
            var keys = _published.Select(k =>
            {
                var parameters = k.Rsa.ExportParameters(false);
                return new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["kid"] = k.KeyId,
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus!),
                    ["e"] = Base64UrlEncoder.Encode(parameters.Exponent!),
                };
            });
            return StubHandler.Json(HttpStatusCode.OK, JsonSerializer.Serialize(new { keys }));
        }

        return StubHandler.Empty(HttpStatusCode.NotFound);
    }
}
