using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Marketplace;

/// <summary>
/// Client-credentials tokens of the publisher's app registration through MSAL. One instance lives for the whole
/// process (a singleton), because MSAL's in-memory app token cache belongs to the application object: it hands back the
/// cached token until shortly before expiry, so the token endpoint is asked about once an hour, not once per call.
/// </summary>
public sealed partial class MsalMarketplaceTokenProvider : IMarketplaceTokenProvider
{
    private readonly IConfidentialClientApplication _application;
    private readonly string[] _scopes;
    private readonly ILogger<MsalMarketplaceTokenProvider> _logger;

    public MsalMarketplaceTokenProvider(
        IOptions<MarketplaceClientOptions> options,
        IHttpClientFactory httpClientFactory,
        ILogger<MsalMarketplaceTokenProvider> logger)
    {
        var settings = options.Value;
        _logger = logger;
        _scopes = [settings.Scope];

        var builder = ConfidentialClientApplicationBuilder
            .Create(settings.ClientId)
            .WithAuthority(settings.Authority.AbsoluteUri)
            .WithHttpClientFactory(new MsalHttpClientFactory(httpClientFactory));

        if (settings.DisableInstanceDiscovery)
        {
            builder = builder.WithInstanceDiscovery(false);
        }

        builder = string.IsNullOrWhiteSpace(settings.CertificatePath)
            ? builder.WithClientSecret(settings.ClientSecret)
            : builder.WithCertificate(X509CertificateLoader.LoadPkcs12FromFile(settings.CertificatePath, settings.CertificatePassword));

        _application = builder.Build();
    }

    public async Task<string> GetAccessTokenAsync(CancellationToken ct = default) =>
        (await GetAccessTokenWithExpiryAsync(ct).ConfigureAwait(false)).Value;

    public async Task<MarketplaceAccessToken> GetAccessTokenWithExpiryAsync(CancellationToken ct = default)
    {
        try
        {
            var result = await _application.AcquireTokenForClient(_scopes).ExecuteAsync(ct).ConfigureAwait(false);
            LogTokenAcquired(result.AuthenticationResultMetadata.TokenSource, result.ExpiresOn);
            return new MarketplaceAccessToken(result.AccessToken, result.ExpiresOn);
        }
        catch (MsalServiceException ex)
        {
            // Entra answered: wrong secret, unknown tenant, app not consented… The caller sees one exception type.
            LogTokenRefused(ex.StatusCode, ex.ErrorCode, ex.CorrelationId);
            throw new MarketplaceException(
                ex.StatusCode > 0 ? (HttpStatusCode)ex.StatusCode : HttpStatusCode.Unauthorized,
                ex.ErrorCode,
                $"Entra refused a marketplace token for this app registration: {ex.Message}",
                ex.CorrelationId ?? "",
                inner: ex);
        }
        catch (MsalClientException ex)
        {
            // Nothing usable came back (network, TLS, malformed answer): the identity provider is unavailable to us.
            LogTokenUnavailable(ex.ErrorCode);
            throw new MarketplaceException(
                HttpStatusCode.ServiceUnavailable,
                ex.ErrorCode,
                $"No marketplace token could be obtained: {ex.Message}",
                "",
                inner: ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Marketplace token from {TokenSource}, expires {ExpiresOn}")]
    private partial void LogTokenAcquired(TokenSource tokenSource, DateTimeOffset expiresOn);

    [LoggerMessage(Level = LogLevel.Error, Message = "Entra refused a marketplace token: {StatusCode} {ErrorCode} (correlation {EntraCorrelationId})")]
    private partial void LogTokenRefused(int statusCode, string errorCode, string? entraCorrelationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "No marketplace token could be obtained: {ErrorCode}")]
    private partial void LogTokenUnavailable(string errorCode);

    /// <summary>
    /// MSAL's own HttpClient would trust only the machine's store; routing it through IHttpClientFactory lets the
    /// demo pin the emulator's certificate and lets tests count token requests with a DelegatingHandler.
    /// </summary>
    private sealed class MsalHttpClientFactory(IHttpClientFactory factory) : IMsalHttpClientFactory
    {
        public HttpClient GetHttpClient() => factory.CreateClient(MarketplaceHttpClients.Identity);
    }
}
