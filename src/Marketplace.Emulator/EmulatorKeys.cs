using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace Marketplace.Emulator;

/// <summary>
/// The two secrets the emulator owns: the TLS certificate (MSAL refuses http authorities, so identity must be https —
/// docs/decisions/0003-emulator-https-identity.md) and the RSA key that signs every token. Both are kept in DataDirectory so a restarted demo
/// is still trusted by a portal that pinned the certificate and still validates tokens it cached.
/// </summary>
internal static class EmulatorKeys
{
    private const string CertificateFileName = "emulator-tls.pfx";
    private const string SigningKeyFileName = "emulator-signing-key.pem";

    public static X509Certificate2 LoadOrCreateTlsCertificate(string? dataDirectory, string listenAddress, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var path = dataDirectory is null ? null : Path.Combine(dataDirectory, CertificateFileName);
        if (path is not null && File.Exists(path))
        {
            var stored = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
            // A certificate about to expire is replaced rather than served: a browser or MSAL would refuse it mid-demo.
            if (stored.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(7) && stored.HasPrivateKey)
            {
                return stored;
            }

            stored.Dispose();
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Marketplace Emulator (loopback)", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        if (IPAddress.TryParse(listenAddress, out var listen) && !IPAddress.IsLoopback(listen)
            && !listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
        {
            names.AddIpAddress(listen);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));

        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        // Round-trip through PFX: Kestrel needs a certificate whose private key is loadable the usual way, and this is
        // exactly what a restart reads back.
        var pfx = created.Export(X509ContentType.Pfx);
        if (path is not null)
        {
            Directory.CreateDirectory(dataDirectory!);
            File.WriteAllBytes(path, pfx);
        }

        return X509CertificateLoader.LoadPkcs12(pfx, password: null);
    }

    public static RsaSecurityKey LoadOrCreateSigningKey(string? dataDirectory)
    {
        var rsa = RSA.Create();
        var path = dataDirectory is null ? null : Path.Combine(dataDirectory, SigningKeyFileName);
        if (path is not null && File.Exists(path))
        {
            rsa.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            rsa.KeySize = 2048;
            if (path is not null)
            {
                Directory.CreateDirectory(dataDirectory!);
                File.WriteAllText(path, rsa.ExportPkcs8PrivateKeyPem());
            }
        }

        // The key id is derived from the public key, so it is stable across restarts without storing it separately.
        var kid = Base64UrlEncoder.Encode(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..22];
        return new RsaSecurityKey(rsa) { KeyId = kid };
    }

    /// <summary>The JWKS document entry for the signing key (public part only).</summary>
    public static object ToJwk(RsaSecurityKey key)
    {
        var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
        return new Dictionary<string, object>
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = SecurityAlgorithms.RsaSha256,
            ["kid"] = key.KeyId,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
    }
}
