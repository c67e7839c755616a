using Marketplace;
using Marketplace.Emulator;
using System.Security.Cryptography.X509Certificates;
using Marketplace.Webhooks;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Identity.Web;
using PublisherPortal.Notifications.Demo;

namespace PublisherPortal.Demo;

public sealed class PortalModeOptions
{
    public const string Section = "Portal";

    /// <summary>
    /// Demo: the emulator plays the marketplace and Entra ID. Real: Entra ID and the marketplace from configuration.
    /// Unset, it is Demo in the Development environment and Real everywhere else (<see cref="DemoMode.Resolve"/>), so a
    /// deployment that forgets a setting refuses to start instead of serving the emulator on the internet.
    /// </summary>
    public PortalMode Mode { get; set; } = PortalMode.Real;

    public int EmulatorHttpsPort { get; set; } = 7443;
    public int EmulatorHttpPort { get; set; } = 7080;

    /// <summary>Create a few subscriptions in varied states on first start, so the console is not empty.</summary>
    public bool SeedDemoData { get; set; } = true;

    /// <summary>
    /// The https base of an emulator started on its own (`dotnet run --project src/Marketplace.Emulator`), shared by
    /// several portal instances. Null (the default): every portal starts its own emulator in-process.
    /// </summary>
    public Uri? ExternalEmulator { get; set; }

    /// <summary>That emulator's TLS certificate (emulator-tls.pfx in its data directory): the one certificate to trust.</summary>
    public string? ExternalEmulatorCertificate { get; set; }
}

public enum PortalMode
{
    Demo,
    Real,
}

/// <summary>
/// The embedded default. The emulator runs in this process on its own loopback ports: https for everything MSAL and the
/// OpenID Connect back channel touch (they refuse http), and http for the sign-in page a browser sees, so nobody clicks
/// through a certificate warning. Everything else is ordinary configuration pointing at it, so the real-mode code paths run.
/// </summary>
public static partial class DemoMode
{
    public const string TrustingClientName = "emulator-trusting";

    /// <summary>
    /// The mode this process runs in: <c>Portal:Mode</c> when it is set, else Demo only in the Development environment
    /// (what <c>dotnet run</c> uses through launchSettings.json) and Real everywhere else.
    /// </summary>
    public static PortalMode Resolve(IConfiguration configuration, IHostEnvironment environment)
    {
        var configured = configuration[$"{PortalModeOptions.Section}:{nameof(PortalModeOptions.Mode)}"];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return environment.IsDevelopment() ? PortalMode.Demo : PortalMode.Real;
        }

        return Enum.TryParse<PortalMode>(configured, ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw new InvalidOperationException($"Portal:Mode is '{configured}'; it must be Real or Demo.");
    }

    /// <summary>
    /// Decides the mode (<see cref="Resolve"/>) and writes it back to configuration, so every feature reading
    /// <c>Portal:Mode</c> sees the same answer. Real mode checks its settings here, before anything starts; demo mode
    /// starts the emulator and points everything at it.
    /// </summary>
    public static IHostApplicationBuilder AddDemoMode(this IHostApplicationBuilder builder)
    {
        var resolved = Resolve(builder.Configuration, builder.Environment);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{PortalModeOptions.Section}:{nameof(PortalModeOptions.Mode)}"] = resolved.ToString(),
        });
        var mode = builder.Configuration.GetSection(PortalModeOptions.Section).Get<PortalModeOptions>() ?? new PortalModeOptions();
        builder.Services.Configure<PortalModeOptions>(builder.Configuration.GetSection(PortalModeOptions.Section));
        if (mode.Mode != PortalMode.Demo)
        {
            RealModeSettings.ThrowIfMissing(builder.Configuration);
            return builder;
        }

        if (mode.ExternalEmulator is { } external)
        {
            // Several instances share one emulator (scale-out demo): its state, and so the marketplace, must be one.
            // The emulator's webhook URL and landing page are its own settings then (--WebhookUrl, --LandingPageUrl).
            var certificatePath = mode.ExternalEmulatorCertificate
                ?? throw new InvalidOperationException("Portal:ExternalEmulator needs Portal:ExternalEmulatorCertificate (the emulator's emulator-tls.pfx).");
            PointAtEmulator(builder, external, X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password: null), new EmulatorOptions());
            builder.AddDemoMailbox();
            return builder;
        }

        var emulatorOptions = new EmulatorOptions
        {
            DataDirectory = Path.Combine(builder.Environment.ContentRootPath, "App_Data", "emulator"),
            HttpsPort = mode.EmulatorHttpsPort,
            HttpPort = mode.EmulatorHttpPort,
        };

        // Start-up, not a request: blocking here once is simpler than deferring every option that needs the ports.
        var emulator = EmulatorHost.StartAsync(emulatorOptions).GetAwaiter().GetResult();
        builder.Services.AddSingleton(emulator);
        builder.Services.AddHostedService<DemoEmulatorBinding>();
        builder.Services.AddHostedService<DemoSeeder>();
        PointAtEmulator(builder, emulator.HttpsBaseUri, emulator.TlsCertificate, emulator.Options);
        builder.AddDemoMailbox();   // every mail goes to an SMTP server in this process and shows on /mailbox
        return builder;
    }

    /// <summary>
    /// Ordinary configuration pointing Entra ID, the marketplace API and webhook validation at the emulator, so the
    /// real-mode code paths run; TLS trusts exactly the emulator's certificate, nothing machine-wide.
    /// </summary>
    private static void PointAtEmulator(IHostApplicationBuilder builder, Uri httpsBase, X509Certificate2 certificate, EmulatorOptions o)
    {
        // The emulator serves identity at its root and the API under /api/ (RunningEmulator.IdentityInstance, ApiBaseUri).
        var identityInstance = httpsBase.ToString();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureAd:Instance"] = identityInstance,
            ["AzureAd:TenantId"] = "organizations",
            ["AzureAd:ClientId"] = o.PortalClientId,
            ["AzureAd:ClientSecret"] = o.PortalClientSecret,
            ["AzureAd:CallbackPath"] = "/signin-oidc",
            ["AzureAd:SignedOutCallbackPath"] = "/signout-callback-oidc",
            ["AzureAd:ResponseType"] = "code",
            ["Marketplace:BaseUri"] = new Uri(httpsBase, "api/").ToString(),
            ["Marketplace:Instance"] = identityInstance,
            ["Marketplace:TenantId"] = o.PublisherTenantId,
            ["Marketplace:ClientId"] = o.PortalClientId,
            ["Marketplace:ClientSecret"] = o.PortalClientSecret,
            ["Marketplace:MarketplaceAppId"] = o.MarketplaceAppId,
            ["Marketplace:DisableInstanceDiscovery"] = "true",
            ["Webhooks:Instance"] = identityInstance,
            ["Webhooks:PublisherTenantId"] = o.PublisherTenantId,
            ["Webhooks:AudienceClientId"] = o.PortalClientId,
            ["Webhooks:MarketplaceAppId"] = o.MarketplaceAppId,
        });

        builder.Services.AddHttpClient(TrustingClientName).ConfigurePrimaryHttpMessageHandler(() => RunningEmulator.CreateHandlerTrusting(certificate));
        builder.Services.Configure<MarketplaceClientOptions>(m => m.PinnedServerCertificate = certificate);
        builder.Services.PostConfigure<WebhookValidationOptions>(v =>
        {
            v.PinnedServerCertificate ??= certificate;
            v.V1IssuerInstances = [httpsBase];
        });
        // PostConfigure, registered before Identity.Web's: it runs after Identity.Web copies its own options over
        // (which would reset the handler) and before OpenID Connect's post-configure builds the back channel from it.
        builder.Services.PostConfigure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, oidc =>
        {
            oidc.BackchannelHttpHandler = RunningEmulator.CreateHandlerTrusting(certificate);
            oidc.RequireHttpsMetadata = true;
        });
        builder.Services.Configure<AadIssuerValidatorOptions>(v => v.HttpClientName = TrustingClientName);
    }

    /// <summary>Once the portal listens, tell the emulator where our landing page and webhook are.</summary>
    private sealed partial class DemoEmulatorBinding(
        RunningEmulator emulator, IServer server, IHostApplicationLifetime lifetime, ILogger<DemoEmulatorBinding> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            // With ports set to 0 nobody else can know where the emulator listens: browser tests and people read it here.
            LogEmulatorAddresses(logger, emulator.HttpsBaseUri, emulator.HttpBaseUri);

            lifetime.ApplicationStarted.Register(() =>
            {
                var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
                if (address is null)
                {
                    return;
                }

                var portal = new Uri(address.Replace("://+", "://localhost").Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost"));
                emulator.Options.WebhookUrl = new Uri(portal, "/api/webhook");
                emulator.Options.LandingPageUrl = new Uri(portal, "/landing");
            });
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken) => await emulator.DisposeAsync();

        [LoggerMessage(Level = LogLevel.Information, Message = "Demo emulator listening: https {HttpsBase} and http {HttpBase} (controls at {HttpBase}emulator)")]
        private static partial void LogEmulatorAddresses(ILogger logger, Uri httpsBase, Uri httpBase);
    }
}
