using System.Security.Cryptography.X509Certificates;
using Marketplace;
using Marketplace.Emulator;
using Microsoft.Extensions.Options;

namespace PublisherPortal.Health;

/// <summary>
/// When the app registration's credential stops working. An expired client secret is the classic silent failure: every
/// marketplace call starts failing on the same day. Entra ID does not tell the app when its secret expires, so the
/// date is a setting; a certificate carries its own NotAfter.
/// </summary>
public sealed class CredentialExpiryCheck(
    IOptions<MarketplaceClientOptions> marketplace,
    IOptions<HealthOptions> options,
    IServiceProvider services) : IIntegrationCheck
{
    public string Key => "credential-expiry";

    public string Title => "Credential expiry";

    public Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var settings = options.Value;
        var client = marketplace.Value;
        DateTimeOffset expiresOn;
        string credential;
        if (!string.IsNullOrWhiteSpace(client.CertificatePath))
        {
            try
            {
                using var certificate = X509CertificateLoader.LoadPkcs12FromFile(client.CertificatePath, client.CertificatePassword);
                expiresOn = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
                credential = $"Certificate {certificate.Thumbprint[..8]}…";
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                return Task.FromResult(CheckResult.Of(this, HealthState.Failing, "The certificate file cannot be read", now,
                    new CheckDetail("What to do", "Check Marketplace:CertificatePath and Marketplace:CertificatePassword.")));
            }
        }
        else if (settings.ClientSecretExpiresOn is { } secretExpiry)
        {
            expiresOn = secretExpiry;
            credential = "Client secret";
        }
        else if (services.GetService<RunningEmulator>() is not null)
        {
            return Task.FromResult(CheckResult.Of(this, HealthState.Healthy, "Demo credential of the emulator: it does not expire", now));
        }
        else
        {
            return Task.FromResult(CheckResult.Of(this, HealthState.Warning, "The client secret's expiry date is not known", now,
                new CheckDetail("What to do", "Set Health:ClientSecretExpiresOn to the date Entra ID shows under Certificates & secrets.")));
        }

        var left = expiresOn - now;
        var state = left <= TimeSpan.FromDays(settings.CredentialFailingDays) ? HealthState.Failing
            : left <= TimeSpan.FromDays(settings.CredentialWarningDays) ? HealthState.Warning
            : HealthState.Healthy;
        var figure = left <= TimeSpan.Zero
            ? $"{credential} expired {Durations.Describe(-left)} ago ({expiresOn:yyyy-MM-dd})"
            : $"{credential} expires {expiresOn:yyyy-MM-dd} (in {Durations.Describe(left)})";
        return Task.FromResult(CheckResult.Of(this, state, figure, now,
            new CheckDetail("Expires", Durations.Time(expiresOn)),
            new CheckDetail("Thresholds", $"warning at {settings.CredentialWarningDays} days, failing at {settings.CredentialFailingDays}")));
    }
}
