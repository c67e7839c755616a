using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Marketplace;

/// <summary>Names of the HttpClients this library registers, so a host (or a test) can add handlers to them.</summary>
public static class MarketplaceHttpClients
{
    /// <summary>The typed client behind <see cref="IFulfillmentClient"/>.</summary>
    public const string Fulfillment = "Marketplace.Fulfillment";

    /// <summary>The typed client behind <see cref="IMeteringClient"/>.</summary>
    public const string Metering = "Marketplace.Metering";

    /// <summary>MSAL's calls to the Entra token endpoint.</summary>
    public const string Identity = "Marketplace.Identity";

    /// <summary>Downloads of the publisher tenant's OpenID metadata and signing keys for webhook validation.</summary>
    public const string WebhookMetadata = "Marketplace.WebhookMetadata";

    /// <summary>
    /// A handler whose TLS accepts exactly <paramref name="pinned"/>, by its SHA-256 thumbprint, and nothing else:
    /// the emulator's self-made certificate is trusted for this process's marketplace calls only, with no change to the
    /// machine's trust store. Name and chain errors are ignored because the pin is stronger than both.
    /// </summary>
    public static SocketsHttpHandler CreatePinnedHandler(X509Certificate2 pinned)
    {
        var expected = pinned.GetCertHash(HashAlgorithmName.SHA256);
        return new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null
                    && CryptographicOperations.FixedTimeEquals(certificate.GetCertHash(HashAlgorithmName.SHA256), expected),
            },
        };
    }

    internal static HttpMessageHandler CreatePrimaryHandler(X509Certificate2? pinned) =>
        pinned is null ? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } : CreatePinnedHandler(pinned);
}
