using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;

namespace Marketplace;

/// <summary>
/// Settings of the marketplace client, bound from the configuration section <see cref="SectionName"/>.
/// Every required setting names itself when missing, so a real deployment fails at start-up with a message an
/// operator can act on instead of a 403 at the first customer's landing.
/// </summary>
public sealed class MarketplaceClientOptions : IValidatableObject
{
    public const string SectionName = "Marketplace";

    /// <summary>The Microsoft marketplace public resource id (docs/marketplace.md#calling-the-api); the token scope is "{MarketplaceAppId}/.default".</summary>
    public const string MicrosoftMarketplaceAppId = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7";

    [Required(ErrorMessage = "Marketplace:BaseUri is required (the fulfillment API root, e.g. https://marketplaceapi.microsoft.com/api/).")]
    public Uri BaseUri { get; set; } = new("https://marketplaceapi.microsoft.com/api/");

    [Required(ErrorMessage = "Marketplace:ApiVersion is required (2018-08-31).")]
    public string ApiVersion { get; set; } = "2018-08-31";

    /// <summary>The publisher's Entra tenant. Required by the built-in MSAL token provider only.</summary>
    public string TenantId { get; set; } = "";

    /// <summary>The publisher app registration's client id. Required by the built-in MSAL token provider only.</summary>
    public string ClientId { get; set; } = "";

    /// <summary>The app registration's secret. Either this or <see cref="CertificatePath"/> must be set.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>A PKCS#12 file holding the app registration's certificate with its private key (instead of a secret).</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    [Required(ErrorMessage = "Marketplace:Instance is required (the Entra instance, e.g. https://login.microsoftonline.com/).")]
    public Uri Instance { get; set; } = new("https://login.microsoftonline.com/");

    [Required(ErrorMessage = "Marketplace:MarketplaceAppId is required (20e940b3-4c77-4b0b-9a53-9e16a1b010a7).")]
    public string MarketplaceAppId { get; set; } = MicrosoftMarketplaceAppId;

    /// <summary>
    /// MSAL asks Entra's instance discovery endpoint about the authority host, and Entra refuses any host it does not
    /// know (AADSTS50049). Set true (configuration: Marketplace:DisableInstanceDiscovery) for an authority that is not a
    /// Microsoft cloud: the emulator in demo mode (docs/decisions/0003-emulator-https-identity.md), or a stand-in identity
    /// provider in a test environment.
    /// </summary>
    public bool DisableInstanceDiscovery { get; set; }

    /// <summary>
    /// Demo only, set in code: TLS to the API and to the identity provider accepts exactly this certificate and no
    /// other — the emulator's self-made one — without any machine-wide trust change.
    /// </summary>
    public X509Certificate2? PinnedServerCertificate { get; set; }

    /// <summary>The longest one call may take, retries and their waits included.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00", ErrorMessage = "Marketplace:Timeout must lie between 1 second and 30 minutes.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>The longest one attempt may take before it is abandoned (and retried where that is safe).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Marketplace:AttemptTimeout must lie between 1 second and 10 minutes.")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times a retry-safe call is repeated after its first attempt.</summary>
    [Range(0, 10, ErrorMessage = "Marketplace:MaxRetryAttempts must lie between 0 and 10.")]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>The first back-off delay; it grows exponentially with jitter. A Retry-After header always wins.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Marketplace:RetryBaseDelay must lie between 0 and 1 minute.")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BaseUri is { IsAbsoluteUri: false })
        {
            yield return new ValidationResult("Marketplace:BaseUri must be an absolute URL.", [nameof(BaseUri)]);
        }

        if (Timeout < AttemptTimeout)
        {
            yield return new ValidationResult("Marketplace:Timeout must not be shorter than Marketplace:AttemptTimeout.", [nameof(Timeout)]);
        }
    }

    /// <summary>
    /// What the built-in <see cref="MsalMarketplaceTokenProvider"/> needs: the app registration and its credential.
    /// Checked only while that provider is the one registered, so a host bringing its own
    /// <see cref="IMarketplaceTokenProvider"/> is not asked for credentials nothing reads.
    /// </summary>
    internal IEnumerable<string> MissingMsalSettings()
    {
        if (string.IsNullOrWhiteSpace(TenantId))
        {
            yield return "Marketplace:TenantId is required (the publisher's Entra tenant id).";
        }

        if (string.IsNullOrWhiteSpace(ClientId))
        {
            yield return "Marketplace:ClientId is required (the publisher app registration's client id).";
        }

        if (string.IsNullOrWhiteSpace(ClientSecret) && string.IsNullOrWhiteSpace(CertificatePath))
        {
            yield return "Marketplace:ClientSecret or Marketplace:CertificatePath is required (the app registration's credential).";
        }

        // MSAL refuses any authority that is not https, whatever else is set: say so at start-up.
        if (Instance is { IsAbsoluteUri: true } && Instance.Scheme != Uri.UriSchemeHttps)
        {
            yield return "Marketplace:Instance must be an https URL: MSAL refuses other schemes.";
        }
    }

    /// <summary>The authority MSAL asks for tokens: "{Instance}{TenantId}".</summary>
    internal Uri Authority => new(WithTrailingSlash(Instance), TenantId);

    internal string Scope => $"{MarketplaceAppId}/.default";

    internal static Uri WithTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
