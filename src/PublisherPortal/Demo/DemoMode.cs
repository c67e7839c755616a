using Marketplace;
using Marketplace.Emulator;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Identity.Web;

namespace PublisherPortal.Demo;

public sealed class PortalModeOptions
{
    public const string Section = "Portal";

    /// <summary>Demo (the default): the emulator plays the marketplace and Entra ID. Real: Entra ID and the marketplace from configuration.</summary>
    public PortalMode Mode { get; set; } = PortalMode.Demo;

    public int EmulatorHttpsPort { get; set; } = 7443;
    public int EmulatorHttpPort { get; set; } = 7080;

    /// <summary>Create a few subscriptions in varied states on first start, so the console is not empty.</summary>
    public bool SeedDemoData { get; set; } = true;
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

    public static IHostApplicationBuilder AddDemoMode(this IHostApplicationBuilder builder)
    {
        var mode = builder.Configuration.GetSection(PortalModeOptions.Section).Get<PortalModeOptions>() ?? new PortalModeOptions();
        builder.Services.Configure<PortalModeOptions>(builder.Configuration.GetSection(PortalModeOptions.Section));
        if (mode.Mode != PortalMode.Demo)
        {
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

        var o = emulator.Options;
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureAd:Instance"] = emulator.IdentityInstance.ToString(),
            ["AzureAd:TenantId"] = "organizations",
            ["AzureAd:ClientId"] = o.PortalClientId,
            ["AzureAd:ClientSecret"] = o.PortalClientSecret,
            ["AzureAd:CallbackPath"] = "/signin-oidc",
            ["AzureAd:SignedOutCallbackPath"] = "/signout-callback-oidc",
            ["AzureAd:ResponseType"] = "code",
            ["Marketplace:BaseUri"] = emulator.ApiBaseUri.ToString(),
            ["Marketplace:Instance"] = emulator.IdentityInstance.ToString(),
            ["Marketplace:TenantId"] = o.PublisherTenantId,
            ["Marketplace:ClientId"] = o.PortalClientId,
            ["Marketplace:ClientSecret"] = o.PortalClientSecret,
            ["Marketplace:MarketplaceAppId"] = o.MarketplaceAppId,
            ["Marketplace:DisableInstanceDiscovery"] = "true",
            ["Webhooks:Instance"] = emulator.IdentityInstance.ToString(),
            ["Webhooks:PublisherTenantId"] = o.PublisherTenantId,
            ["Webhooks:AudienceClientId"] = o.PortalClientId,
            ["Webhooks:MarketplaceAppId"] = o.MarketplaceAppId,
        });

        // Trust exactly the emulator's certificate, nothing machine-wide.
        builder.Services.AddHttpClient(TrustingClientName).ConfigurePrimaryHttpMessageHandler(emulator.CreateTrustingHandler);
        builder.Services.Configure<MarketplaceClientOptions>(m => m.PinnedServerCertificate = emulator.TlsCertificate);
        // PostConfigure, registered before Identity.Web's: it runs after Identity.Web copies its own options over
        // (which would reset the handler) and before OpenID Connect's post-configure builds the back channel from it.
        builder.Services.PostConfigure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, oidc =>
        {
            oidc.BackchannelHttpHandler = emulator.CreateTrustingHandler();
            oidc.RequireHttpsMetadata = true;
        });
        builder.Services.Configure<AadIssuerValidatorOptions>(v => v.HttpClientName = TrustingClientName);
        return builder;
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
