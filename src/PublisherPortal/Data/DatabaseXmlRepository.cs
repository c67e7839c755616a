using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace PublisherPortal.Data;

/// <summary>
/// Data Protection keys kept in the portal's database, so a sign-in cookie (or antiforgery token) issued by one
/// instance is honoured by every other instance that shares the database.
/// </summary>
public sealed class DatabaseXmlRepository(PortalDatabase database) : IXmlRepository
{
    // IXmlRepository is synchronous by design; key reads happen once per key ring refresh, not per request.
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = database.OpenAsync().GetAwaiter().GetResult();
        return connection.Query<string>("SELECT xml FROM data_protection_keys ORDER BY friendly_name")
            .Select(XElement.Parse)
            .ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = database.OpenAsync().GetAwaiter().GetResult();
        connection.Execute(
            "INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@friendlyName, @xml) ON CONFLICT (friendly_name) DO NOTHING",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}

/// <summary>The "DataProtection" section: the certificate that encrypts the keys at rest.</summary>
public sealed class KeyEncryptionOptions
{
    public const string Section = "DataProtection";

    /// <summary>A PKCS#12 file with the certificate and its private key. Required in real mode; demo mode may leave it out.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Certificates used before a rotation: keys they encrypted still decrypt, new keys use <see cref="CertificatePath"/>.</summary>
    public List<string> PreviousCertificatePaths { get; set; } = [];
}

public static class DataProtectionExtensions
{
    /// <summary>
    /// Keys in the database, encrypted with the configured certificate: whoever reads the database (a backup, a
    /// read-only account) cannot forge sign-in cookies without the certificate's private key as well. Without a
    /// certificate (demo mode only: real mode refuses to start, see RealModeSettings) the keys are stored as plain XML
    /// and ASP.NET Core logs a warning saying so.
    /// </summary>
    public static IHostApplicationBuilder AddSharedDataProtection(this IHostApplicationBuilder builder)
    {
        var protection = builder.Services.AddDataProtection().SetApplicationName("PublisherPortal");
        var encryption = builder.Configuration.GetSection(KeyEncryptionOptions.Section).Get<KeyEncryptionOptions>() ?? new KeyEncryptionOptions();
        if (!string.IsNullOrWhiteSpace(encryption.CertificatePath))
        {
            var current = LoadCertificate(encryption.CertificatePath, encryption.CertificatePassword);
            var previous = encryption.PreviousCertificatePaths
                .Where(path => !string.IsNullOrWhiteSpace(path))
                .Select(path => LoadCertificate(path, encryption.CertificatePassword));
            protection.ProtectKeysWithCertificate(current).UnprotectKeysWithAnyCertificate([current, .. previous]);
        }

        builder.Services.AddSingleton<DatabaseXmlRepository>();
        builder.Services.AddOptions<KeyManagementOptions>()
            .Configure<DatabaseXmlRepository>((options, repository) => options.XmlRepository = repository);
        return builder;
    }

    private static X509Certificate2 LoadCertificate(string path, string? password)
    {
        try
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            return certificate.HasPrivateKey
                ? certificate
                : throw new InvalidOperationException($"DataProtection certificate '{path}' has no private key: the keys it encrypts could not be read back.");
        }
        catch (Exception e) when (e is CryptographicException or IOException)
        {
            throw new InvalidOperationException(
                $"DataProtection:CertificatePath '{path}' could not be read as a PKCS#12 file with DataProtection:CertificatePassword: {e.Message}", e);
        }
    }
}
