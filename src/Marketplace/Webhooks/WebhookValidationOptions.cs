using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;

namespace Marketplace.Webhooks;

/// <summary>
/// What a genuine webhook token must show (docs/marketplace.md#webhook-authentication). Bound from <see cref="SectionName"/>.
/// In demo mode <see cref="Instance"/> and <see cref="V1IssuerInstances"/> point at the emulator, which stands in for
/// both login.microsoftonline.com and sts.windows.net.
/// </summary>
public sealed class WebhookValidationOptions
{
    public const string SectionName = "Marketplace:Webhook";

    [Required(ErrorMessage = "Marketplace:Webhook:PublisherTenantId is required (the Entra tenant named in the offer's technical configuration).")]
    public string PublisherTenantId { get; set; } = "";

    [Required(ErrorMessage = "Marketplace:Webhook:AudienceClientId is required (the app id named in the offer's technical configuration).")]
    public string AudienceClientId { get; set; } = "";

    /// <summary>Docs put it in <c>appid</c>, tokens seen in 2024 in <c>azp</c>; either is accepted. Configurable in case it changes.</summary>
    [Required(ErrorMessage = "Marketplace:Webhook:MarketplaceAppId is required (20e940b3-4c77-4b0b-9a53-9e16a1b010a7).")]
    public string MarketplaceAppId { get; set; } = MarketplaceClientOptions.MicrosoftMarketplaceAppId;

    /// <summary>Where the tenant's OpenID metadata lives and the host of v2 issuers: "{Instance}{tenant}/v2.0".</summary>
    [Required(ErrorMessage = "Marketplace:Webhook:Instance is required (e.g. https://login.microsoftonline.com/).")]
    public Uri Instance { get; set; } = new("https://login.microsoftonline.com/");

    /// <summary>Hosts of v1 issuers "{host}{tenant}/". Entra's is sts.windows.net; the emulator replaces it in demo mode.</summary>
    public IList<Uri> V1IssuerInstances { get; set; } = [new Uri("https://sts.windows.net/")];

    /// <summary>Issuers accepted verbatim on top of the derived ones (escape hatch if Entra adds a form).</summary>
    public IList<string> AdditionalValidIssuers { get; set; } = [];

    /// <summary>Leeway for <c>exp</c>/<c>nbf</c> between Entra's clock and ours. Small on purpose: tokens live an hour.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Marketplace:Webhook:ClockSkew must lie between 0 and 10 minutes.")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Demo only, set in code: the metadata and key download accepts exactly this TLS certificate.</summary>
    public X509Certificate2? PinnedServerCertificate { get; set; }

    internal Uri MetadataAddress =>
        new(MarketplaceClientOptions.WithTrailingSlash(Instance), $"{PublisherTenantId}/v2.0/.well-known/openid-configuration");

    internal IReadOnlyList<string> ValidIssuers =>
    [
        $"{MarketplaceClientOptions.WithTrailingSlash(Instance).AbsoluteUri}{PublisherTenantId}/v2.0",
        .. V1IssuerInstances.Select(host => $"{MarketplaceClientOptions.WithTrailingSlash(host).AbsoluteUri}{PublisherTenantId}/"),
        .. AdditionalValidIssuers,
    ];

    internal IReadOnlyList<string> ValidAudiences => [AudienceClientId, $"api://{AudienceClientId}"];
}
