using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PublisherPortal.Tests.Support;

/// <summary>
/// Everything real mode requires (RealModeSettings), pointing at addresses that cannot resolve: enough for the portal to
/// start and answer what needs no marketplace. The Data Protection certificate is a fresh self-signed one per process.
/// </summary>
public static class RealModeTestSettings
{
    private static readonly Lazy<string> Certificate = new(() =>
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=PublisherPortal test key encryption", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(Path.GetTempPath(), $"portal-dp-{Environment.ProcessId}-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx));
        return path;
    });

    /// <summary>A PKCS#12 file (no password) with a private key, for DataProtection:CertificatePath.</summary>
    public static string CertificatePath => Certificate.Value;

    public static Dictionary<string, string> All()
    {
        var tenant = Guid.NewGuid().ToString("D");
        var client = Guid.NewGuid().ToString("D");
        return new Dictionary<string, string>
        {
            ["Portal:Mode"] = "Real",
            ["AzureAd:Instance"] = "https://login.invalid/",
            ["AzureAd:TenantId"] = "organizations",
            ["AzureAd:ClientId"] = client,
            ["AzureAd:ClientSecret"] = "test-secret",
            ["Marketplace:BaseUri"] = "https://marketplace.invalid/api/",
            ["Marketplace:Instance"] = "https://login.invalid/",
            ["Marketplace:TenantId"] = tenant,
            ["Marketplace:ClientId"] = client,
            ["Marketplace:ClientSecret"] = "test-secret",
            ["Webhooks:Instance"] = "https://login.invalid/",
            ["Webhooks:PublisherTenantId"] = tenant,
            ["Webhooks:AudienceClientId"] = client,
            ["Metering:AllowedClientAppIds:0"] = "7e5a0000-0000-4000-8000-00000000abcd",
            ["DataProtection:CertificatePath"] = CertificatePath,
        };
    }
}
