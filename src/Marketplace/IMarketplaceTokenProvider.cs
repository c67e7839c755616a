namespace Marketplace;

/// <summary>An access token for the marketplace API (docs/marketplace.md#calling-the-api). Implementations cache it
/// until shortly before it expires.</summary>
public interface IMarketplaceTokenProvider
{
    /// <summary>The bearer token to send. Never log it.</summary>
    Task<string> GetAccessTokenAsync(CancellationToken ct = default);

    /// <summary>
    /// The token with the time it stops being valid, for the portal's health page ("can we get one now, and until when").
    /// Providers that cannot tell leave <see cref="MarketplaceAccessToken.ExpiresOn"/> empty.
    /// </summary>
    async Task<MarketplaceAccessToken> GetAccessTokenWithExpiryAsync(CancellationToken ct = default) =>
        new(await GetAccessTokenAsync(ct).ConfigureAwait(false), null);
}

/// <summary>A bearer token and its expiry. <see cref="ToString"/> never shows the value, so logging the object is safe.</summary>
public sealed class MarketplaceAccessToken(string value, DateTimeOffset? expiresOn)
{
    /// <summary>The credential itself. Never log it, never show it.</summary>
    public string Value { get; } = value;

    public DateTimeOffset? ExpiresOn { get; } = expiresOn;

    public override string ToString() => ExpiresOn is { } at ? $"marketplace token valid until {at:O}" : "marketplace token";
}
