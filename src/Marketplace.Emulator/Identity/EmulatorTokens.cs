using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Marketplace.Emulator.Identity;

/// <summary>
/// Mints and checks every JWT the emulator deals in: app tokens for the fulfillment API, id tokens for the demo sign-in,
/// and the bearer tokens on webhook deliveries. All signed with the one persisted key published in the JWKS.
/// Times come from the TimeProvider so tests can expire tokens without waiting.
/// </summary>
internal sealed class EmulatorTokens(RsaSecurityKey signingKey, EmulatorOptions options, EmulatorAddresses addresses, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _credentials = new(signingKey, SecurityAlgorithms.RsaSha256);

    public RsaSecurityKey SigningKey => signingKey;

    /// <summary>v2 issuer of a tenant, Entra's shape on the emulator host: https://127.0.0.1:p/{tenant}/v2.0.</summary>
    public string V2Issuer(string tenantId) => $"{addresses.HttpsBase}{tenantId}/v2.0";

    /// <summary>v1 issuer (Entra's https://sts.windows.net/{tenant}/), on the emulator host.</summary>
    public string V1Issuer(string tenantId) => $"{addresses.HttpsBase}{tenantId}/";

    /// <summary>
    /// An app-only token for the marketplace resource. The marketplace resource accepts v1 tokens, so like Entra the
    /// emulator issues one (appid, v1 issuer) whichever endpoint version was asked.
    /// </summary>
    public (string Token, TimeSpan Lifetime) CreateAppAccessToken(string tenantId, string clientId, string audience)
    {
        var lifetime = options.AccessTokenLifetime;
        var claims = new Dictionary<string, object>
        {
            ["tid"] = tenantId,
            ["appid"] = clientId,
            ["appidacr"] = "1",
            ["oid"] = StableGuid(clientId + "/" + tenantId).ToString(),
            ["sub"] = StableGuid(clientId + "/" + tenantId).ToString(),
            ["idtyp"] = "app",
            ["ver"] = "1.0",
        };
        return (Create(V1Issuer(tenantId), audience, lifetime, claims), lifetime);
    }

    public string CreateIdToken(DemoIdentity person, string clientId, string? nonce, TimeSpan lifetime)
    {
        var claims = PersonClaims(person, clientId);
        if (!string.IsNullOrEmpty(nonce))
        {
            claims["nonce"] = nonce;
        }

        return Create(V2Issuer(person.TenantId), clientId, lifetime, claims);
    }

    /// <summary>A delegated access token for the portal itself (audience = its client id), as Entra gives next to an id token.</summary>
    public string CreateUserAccessToken(DemoIdentity person, string clientId, string scope, TimeSpan lifetime)
    {
        var claims = PersonClaims(person, clientId);
        claims["azp"] = clientId;
        claims["scp"] = scope;
        return Create(V2Issuer(person.TenantId), clientId, lifetime, claims);
    }

    /// <summary>The bearer token Microsoft's side puts on webhook deliveries
    /// (docs/marketplace.md#webhook-authentication), with optional overrides for negative tests.</summary>
    public string CreateWebhookToken(WebhookTokenOverrides? overrides = null)
    {
        var tenant = overrides?.TenantId ?? options.PublisherTenantId;
        var appId = overrides?.AppId ?? options.MarketplaceAppId;
        var claims = new Dictionary<string, object>
        {
            ["tid"] = tenant,
            ["azp"] = overrides?.Azp ?? appId,
            ["appid"] = appId,
            ["oid"] = StableGuid("marketplace/" + tenant).ToString(),
            ["sub"] = StableGuid("marketplace/" + tenant).ToString(),
            ["idtyp"] = "app",
            ["ver"] = "2.0",
        };
        var issuedAt = overrides?.IssuedAt ?? time.GetUtcNow();
        var lifetime = overrides?.Lifetime ?? TimeSpan.FromHours(1);
        var credentials = overrides?.SignWithUnknownKey == true ? ForeignCredentials() : _credentials;
        return Create(overrides?.Issuer ?? V2Issuer(tenant), overrides?.Audience ?? options.PortalClientId, lifetime, claims, issuedAt, credentials);
    }

    /// <summary>Checks a bearer token sent to the fulfillment API: our signature, audience = the marketplace app, not expired.</summary>
    public async Task<bool> IsValidApiTokenAsync(string token)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var parameters = new TokenValidationParameters
        {
            IssuerSigningKey = signingKey,
            ValidateIssuerSigningKey = true,
            ValidAudiences = [options.MarketplaceAppId, "api://" + options.MarketplaceAppId],
            // Only this emulator holds the key, so the signature already proves who issued it; the issuer is still
            // checked (one of ours) rather than switched off, which IdentityModel reports as a warning on every call.
            IssuerValidator = (issuer, _, _) => issuer.StartsWith(addresses.HttpsBase.ToString(), StringComparison.Ordinal)
                ? issuer
                : throw new SecurityTokenInvalidIssuerException($"issuer {issuer} is not this emulator"),
            ValidateLifetime = false,
        };
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return false;
        }

        // Lifetime is checked against the emulator's clock, not the machine's, so tests can move time.
        return jwt.ValidTo > now && (jwt.ValidFrom == DateTime.MinValue || jwt.ValidFrom <= now.AddMinutes(5));
    }

    private static Dictionary<string, object> PersonClaims(DemoIdentity person, string clientId) => new()
    {
        ["tid"] = person.TenantId,
        ["oid"] = person.ObjectId.ToString(),
        // Entra's sub is pairwise: stable per person and application.
        ["sub"] = StableGuid(person.ObjectId + "/" + clientId).ToString("N"),
        ["name"] = person.DisplayName,
        ["preferred_username"] = person.Email,
        ["email"] = person.Email,
        ["roles"] = person.Roles.ToList(),
        ["ver"] = "2.0",
    };

    private string Create(string issuer, string audience, TimeSpan lifetime, Dictionary<string, object> claims,
        DateTimeOffset? issuedAt = null, SigningCredentials? credentials = null)
    {
        var now = issuedAt ?? time.GetUtcNow();
        claims["uti"] = Guid.NewGuid().ToString("N");
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(lifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = credentials ?? _credentials,
        });
    }

    private static SigningCredentials ForeignCredentials() =>
        new(new RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "not-the-emulator-key" }, SecurityAlgorithms.RsaSha256);

    private static Guid StableGuid(string seed)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed));
        return new Guid(hash.AsSpan(0, 16));
    }

}
