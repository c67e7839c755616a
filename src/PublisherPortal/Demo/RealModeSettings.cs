namespace PublisherPortal.Demo;

/// <summary>
/// Every setting real mode cannot run without, checked together before anything starts, so an operator reads the
/// whole list in one failed start instead of one missing key per attempt. Values that are present but wrong (a
/// relative URL, a timeout out of range) are the options' own validation at start-up; this only asks "is it there".
/// The README's configuration reference and appsettings.example.json list the same keys.
/// </summary>
public static class RealModeSettings
{
    private sealed record Requirement(string Keys, string Why, Func<IConfiguration, bool> IsSet);

    private static readonly Requirement[] Requirements =
    [
        Setting("AzureAd:Instance", "the Entra ID instance people sign in with, e.g. https://login.microsoftonline.com/"),
        Setting("AzureAd:TenantId", "'organizations' for customers of any tenant"),
        Setting("AzureAd:ClientId", "the portal's app registration (client) id"),
        new("AzureAd:ClientSecret or AzureAd:ClientCertificates",
            "the app registration's credential, needed to redeem the sign-in code",
            c => Has(c, "AzureAd:ClientSecret") || c.GetSection("AzureAd:ClientCertificates").GetChildren().Any()
                 || string.Equals(c["AzureAd:ResponseType"], "id_token", StringComparison.OrdinalIgnoreCase)),
        Setting("Marketplace:TenantId", "the publisher's Entra tenant id"),
        Setting("Marketplace:ClientId", "the app registration that calls the SaaS Fulfillment API"),
        new("Marketplace:ClientSecret or Marketplace:CertificatePath", "that app registration's credential",
            c => Has(c, "Marketplace:ClientSecret") || Has(c, "Marketplace:CertificatePath")),
        Setting("Webhooks:PublisherTenantId", "the tenant id entered in the offer's technical configuration"),
        Setting("Webhooks:AudienceClientId", "the app id entered in the offer's technical configuration"),
        new("Metering:AllowedClientAppIds", "the client ids of the apps allowed to report usage (Metering:AllowedClientAppIds:0=...)",
            c => c.GetSection("Metering:AllowedClientAppIds").GetChildren().Any(child => !string.IsNullOrWhiteSpace(child.Value))),
        Setting("DataProtection:CertificatePath",
            "a PKCS#12 file whose certificate encrypts the Data Protection keys kept in the database"),
    ];

    /// <summary>Every requirement's key, or keys joined by " or " where one of several will do.</summary>
    public static IEnumerable<string> RequiredKeys => Requirements.Select(r => r.Keys);

    /// <summary>The missing settings, each as "key (what it is)"; empty when real mode has all it needs.</summary>
    public static IReadOnlyList<string> Missing(IConfiguration configuration) =>
        [.. Requirements.Where(r => !r.IsSet(configuration)).Select(r => $"{r.Keys} ({r.Why})")];

    public static void ThrowIfMissing(IConfiguration configuration)
    {
        var missing = Missing(configuration);
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                "Real mode cannot start: these settings are missing:" + Environment.NewLine
                + string.Join(Environment.NewLine, missing.Select(m => "  - " + m)) + Environment.NewLine
                + "Set them (README, \"Configuration reference\"; appsettings.example.json), or run the demo on purpose with Portal:Mode=Demo.");
        }
    }

    private static Requirement Setting(string key, string why) => new(key, why, c => Has(c, key));

    private static bool Has(IConfiguration configuration, string key) => !string.IsNullOrWhiteSpace(configuration[key]);
}
