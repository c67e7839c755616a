using System.Security.Claims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Marketplace.Webhooks;

/// <summary>
/// Checks the <c>Authorization: Bearer</c> JWT of a webhook delivery as docs/marketplace.md#webhook-authentication asks: signed by a key of the
/// publisher tenant's OpenID metadata, issued by that tenant (v2 or v1 issuer), for the publisher's app, carrying the
/// marketplace's app id in <c>appid</c> or <c>azp</c>, and within its lifetime. A bad token is an answer, not an
/// exception: the webhook endpoint turns it into a 401 and a loud log line.
/// </summary>
public sealed partial class WebhookTokenValidator
{
    private const string BearerPrefix = "Bearer ";

    private readonly WebhookValidationOptions _options;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _metadata;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookTokenValidator> _logger;

    public WebhookTokenValidator(
        IOptions<WebhookValidationOptions> options,
        IHttpClientFactory httpClientFactory,
        TimeProvider time,
        ILogger<WebhookTokenValidator> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _metadata = new ConfigurationManager<OpenIdConnectConfiguration>(
            _options.MetadataAddress.AbsoluteUri,
            new OpenIdConnectConfigurationRetriever(),
            new FactoryDocumentRetriever(httpClientFactory))
        {
            // Our own gate (KeyRefreshInterval) decides how often a refresh may be asked for; the manager must not add its own.
            RefreshInterval = ConfigurationManager<OpenIdConnectConfiguration>.MinimumRefreshInterval,
        };
    }

    /// <summary>
    /// Entra rolls its keys over with notice; a token signed by a key we have not seen asks for fresh metadata,
    /// at most this often, so a flood of forged tokens can neither hammer the metadata endpoint nor slow every request.
    /// </summary>
    internal static TimeSpan KeyRefreshInterval { get; } = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan RefreshWait = TimeSpan.FromSeconds(5);
    private readonly Lock _refreshGate = new();
    private DateTimeOffset _lastKeyRefresh = DateTimeOffset.MinValue;

    /// <summary>Validates the raw value of the Authorization header. Never throws for a bad or missing token.</summary>
    public async Task<WebhookTokenValidation> ValidateAsync(string? authorizationHeader, CancellationToken ct = default)
    {
        var result = await JudgeAsync(authorizationHeader, ct).ConfigureAwait(false);
        if (result.IsValid)
        {
            LogAccepted();
        }
        else
        {
            LogRefused(result.Failure, result.Reason);
        }

        return result;
    }

    private async Task<WebhookTokenValidation> JudgeAsync(string? authorizationHeader, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(authorizationHeader)
            || !authorizationHeader.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
            || authorizationHeader[BearerPrefix.Length..].Trim() is not { Length: > 0 } token)
        {
            // Deliveries come without a token when the offer's technical configuration lacks the tenant and app id.
            return WebhookTokenValidation.Refused(WebhookTokenFailure.MissingToken, "missing bearer token");
        }

        if (!_handler.CanReadToken(token))
        {
            return WebhookTokenValidation.Refused(WebhookTokenFailure.MalformedToken, "malformed token");
        }

        TokenValidationResult outcome;
        try
        {
            var metadata = await _metadata.GetConfigurationAsync(ct).ConfigureAwait(false);
            outcome = await ValidateWithKeysAsync(token, metadata).ConfigureAwait(false);
            if (outcome.Exception is SecurityTokenSignatureKeyNotFoundException && MayRefreshKeys())
            {
                // Key rollover: the token names a key we do not hold yet. Fetch the metadata again and retry once.
                var refreshed = await RefreshedMetadataAsync(metadata, ct).ConfigureAwait(false);
                outcome = await ValidateWithKeysAsync(token, refreshed).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogKeysUnavailable(_options.MetadataAddress, ex.GetType().Name);
            return WebhookTokenValidation.Refused(WebhookTokenFailure.KeysUnavailable, "signing keys unavailable");
        }

        if (!outcome.IsValid)
        {
            return Refusal(outcome.Exception);
        }

        if (CheckLifetime(outcome.SecurityToken) is { } lifetimeRefusal)
        {
            return lifetimeRefusal;
        }

        var identity = outcome.ClaimsIdentity;
        if (!Holds(identity, "tid", _options.PublisherTenantId))
        {
            return WebhookTokenValidation.Refused(WebhookTokenFailure.WrongTenant, "wrong tenant");
        }

        // The docs name appid; tokens seen since 2024 carry azp instead. Either must hold the marketplace's id.
        if (!Holds(identity, "appid", _options.MarketplaceAppId) && !Holds(identity, "azp", _options.MarketplaceAppId))
        {
            return WebhookTokenValidation.Refused(WebhookTokenFailure.WrongAppId, "wrong app id");
        }

        return WebhookTokenValidation.Valid(identity);
    }

    private bool MayRefreshKeys()
    {
        lock (_refreshGate)
        {
            var now = _time.GetUtcNow();
            if (now - _lastKeyRefresh < KeyRefreshInterval)
            {
                return false;
            }

            _lastKeyRefresh = now;
            return true;
        }
    }

    /// <summary>
    /// ConfigurationManager refreshes in the background after RequestRefresh and meanwhile hands out what it has, so we
    /// ask again until a new configuration object appears (or give up after a few seconds and use the old one).
    /// Real delays, not TimeProvider ones: this waits for a network fetch, not for a point in business time.
    /// </summary>
    private async Task<OpenIdConnectConfiguration> RefreshedMetadataAsync(OpenIdConnectConfiguration stale, CancellationToken ct)
    {
        _metadata.RequestRefresh();
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
        patience.CancelAfter(RefreshWait);
        try
        {
            while (true)
            {
                var current = await _metadata.GetConfigurationAsync(patience.Token).ConfigureAwait(false);
                if (!ReferenceEquals(current, stale))
                {
                    return current;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), patience.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return stale;
        }
    }

    private async Task<TokenValidationResult> ValidateWithKeysAsync(string token, OpenIdConnectConfiguration metadata)
    {
        var parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = metadata.SigningKeys,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ValidIssuers = _options.ValidIssuers,
            ValidAudiences = _options.ValidAudiences,
            // Lifetime is checked by CheckLifetime against TimeProvider, so tests (and the emulator's clock) can move time.
            ValidateLifetime = false,
        };

        return await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
    }

    private static WebhookTokenValidation Refusal(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => WebhookTokenValidation.Refused(WebhookTokenFailure.Expired, "expired"),
        SecurityTokenNotYetValidException => WebhookTokenValidation.Refused(WebhookTokenFailure.NotYetValid, "not yet valid"),
        SecurityTokenNoExpirationException => WebhookTokenValidation.Refused(WebhookTokenFailure.MalformedToken, "token has no expiry"),
        SecurityTokenInvalidIssuerException => WebhookTokenValidation.Refused(WebhookTokenFailure.WrongIssuer, "wrong issuer"),
        SecurityTokenInvalidAudienceException => WebhookTokenValidation.Refused(WebhookTokenFailure.WrongAudience, "wrong audience"),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
            => WebhookTokenValidation.Refused(WebhookTokenFailure.BadSignature, "bad signature"),
        _ => WebhookTokenValidation.Refused(WebhookTokenFailure.MalformedToken, $"invalid token ({failure?.GetType().Name ?? "unknown"})"),
    };

    private WebhookTokenValidation? CheckLifetime(SecurityToken token)
    {
        var now = _time.GetUtcNow().UtcDateTime;

        // JsonWebToken reports an absent claim as DateTime.MinValue. A token without expiry would be valid forever.
        if (token.ValidTo == DateTime.MinValue)
        {
            return WebhookTokenValidation.Refused(WebhookTokenFailure.MalformedToken, "token has no expiry");
        }

        if (token.ValidTo.Add(_options.ClockSkew) < now)
        {
            return WebhookTokenValidation.Refused(WebhookTokenFailure.Expired, "expired");
        }

        if (token.ValidFrom != DateTime.MinValue && token.ValidFrom.Subtract(_options.ClockSkew) > now)
        {
            return WebhookTokenValidation.Refused(WebhookTokenFailure.NotYetValid, "not yet valid");
        }

        return null;
    }

    private static bool Holds(ClaimsIdentity identity, string claimType, string expected) =>
        identity.FindAll(claimType).Any(c => string.Equals(c.Value, expected, StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Webhook token accepted")]
    private partial void LogAccepted();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook token refused: {Failure} ({Reason})")]
    private partial void LogRefused(WebhookTokenFailure failure, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook signing keys could not be fetched from {MetadataAddress}: {Failure}")]
    private partial void LogKeysUnavailable(Uri metadataAddress, string failure);

    /// <summary>
    /// Fetches metadata and keys through IHttpClientFactory, a fresh client per fetch (pooled handlers, DNS changes
    /// honoured), so the demo can pin the emulator's certificate. https is required: keys over plain http could be forged.
    /// </summary>
    private sealed class FactoryDocumentRetriever(IHttpClientFactory factory) : IDocumentRetriever
    {
        public Task<string> GetDocumentAsync(string address, CancellationToken cancel) =>
            new HttpDocumentRetriever(factory.CreateClient(MarketplaceHttpClients.WebhookMetadata)) { RequireHttps = true }
                .GetDocumentAsync(address, cancel);
    }
}
