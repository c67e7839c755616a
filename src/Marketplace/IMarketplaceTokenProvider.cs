namespace Marketplace;

/// <summary>An access token for the marketplace API (contract §1). Implementations cache it until shortly before it expires.</summary>
public interface IMarketplaceTokenProvider
{
    /// <summary>The bearer token to send. Never log it.</summary>
    Task<string> GetAccessTokenAsync(CancellationToken ct = default);
}
