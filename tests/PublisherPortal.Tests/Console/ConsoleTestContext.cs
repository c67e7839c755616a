using Bunit;
using Marketplace;
using Marketplace.Emulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Support;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Console;

/// <summary>
/// bUnit for console pages: the portal's real stores, queries and services over a migrated SQLite file, and the real
/// marketplace client talking to an emulator started per test class instance. Background workers are registered but
/// not started (bUnit runs no host), so nothing changes under a test's feet.
/// </summary>
public abstract class ConsoleTestContext : PortalTestContext, IAsyncLifetime
{
    protected TestDatabase Db { get; private set; } = default!;
    protected RunningEmulator Emulator { get; private set; } = default!;

    public const string Olivia = "olivia@publisher.example";
    public const string Finn = "finn@publisher.example";
    public const string PublisherTenant = "72f988bf-0000-4000-8000-00000000c0de";

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        Emulator = await EmulatorHost.StartAsync(new EmulatorOptions());
        var emulator = Emulator;

        Services.AddSingleton(Db.Database);
        Services.AddSingleton<TimeProvider>(Db.Time);
        Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Services.AddSingleton(emulator);
        Services.AddSingleton<SubscriptionStore>();
        Services.AddSingleton<OperationStore>();
        Services.AddSingleton<AuditLog>();
        Services.AddScoped<SubscriptionChangeService>();
        Services.AddMarketplaceClient(options =>
        {
            options.BaseUri = emulator.ApiBaseUri;
            options.Instance = emulator.IdentityInstance;
            options.TenantId = emulator.Options.PublisherTenantId;
            options.ClientId = emulator.Options.PortalClientId;
            options.ClientSecret = emulator.Options.PortalClientSecret;
            options.MarketplaceAppId = emulator.Options.MarketplaceAppId;
            options.DisableInstanceDiscovery = true;
            options.PinnedServerCertificate = emulator.TlsCertificate;
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
        });
        var webhooks = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:Instance"] = emulator.IdentityInstance.ToString(),
            ["Webhooks:PublisherTenantId"] = emulator.Options.PublisherTenantId,
            ["Webhooks:AudienceClientId"] = emulator.Options.PortalClientId,
            ["Webhooks:MarketplaceAppId"] = emulator.Options.MarketplaceAppId,
        }).Build().GetSection(WebhooksOptions.Section);
        Services.AddWebhookServices(webhooks);
        Services.AddConsoleServices();
        // Subscription detail embeds the metered-usage panel.
        Services.AddSingleton<PublisherPortal.Metering.UsageStore>();
        Services.AddSingleton<PublisherPortal.Metering.MeteringPlans>();
        Services.AddScoped<PublisherPortal.Metering.MeteringConsole>();
    }

    // MudBlazor's services dispose only asynchronously, so the context is disposed here, before xunit's synchronous Dispose.
    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Emulator.DisposeAsync();
        await Db.DisposeAsync();
    }

    protected void SignInAsOperator() => SignIn(Olivia, PublisherTenant, Roles.Operator);

    protected void SignInAsFinance() => SignIn(Finn, PublisherTenant, Roles.Finance);

    /// <summary>Renders the page the way the layout does: behind the popover and dialog providers MudBlazor needs.</summary>
    protected IRenderedComponent<TPage> RenderPage<TPage>(Action<ComponentParameterCollectionBuilder<TPage>>? parameters = null)
        where TPage : Microsoft.AspNetCore.Components.IComponent
    {
        Render<MudPopoverProvider>();
        Render<MudDialogProvider>();
        return Render(parameters ?? (_ => { }));
    }
}
