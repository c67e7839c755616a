using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace PublisherPortal.Metering;

/// <summary>How the publisher's product proves itself to the usage intake: an API key (demo) or an Entra app token (real).</summary>
public static class MeteringAuthentication
{
    public const string ApiKeyScheme = "MeteringApiKey";
    public const string AppTokenScheme = "MeteringAppToken";
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Names the caller on every usage record: the API key's name, or the calling app's client id.</summary>
    public const string SourceClaim = "metering_source";

    /// <summary>The demo key, documented in the README; never valid in real mode.</summary>
    public const string DemoKeyName = "demo-product";
    public const string DemoKey = "demo-usage-key-not-for-production";
}

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions;

/// <summary>
/// Checks <c>X-Api-Key</c> against Metering:ApiKeys. Keys are compared in constant time over their SHA-256 so neither
/// the content nor the length of a configured key leaks through timing.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<MeteringOptions> metering)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[MeteringAuthentication.ApiKeyHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(presented))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        string? matched = null;
        foreach (var (name, key) in metering.CurrentValue.ApiKeys)
        {
            // Every key is compared, match or not, so the time taken does not tell which one matched.
            if (CryptographicOperations.FixedTimeEquals(presentedHash, SHA256.HashData(Encoding.UTF8.GetBytes(key))))
            {
                matched = name;
            }
        }

        if (matched is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, matched), new Claim(MeteringAuthentication.SourceClaim, "key:" + matched)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
