using Marketplace;
using Marketplace.Emulator;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Landing;

/// <summary>One emulator per test class, on loopback, as demo mode runs it. Each test makes its own purchases.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public RunningEmulator Emulator { get; private set; } = default!;

    public async Task InitializeAsync() => Emulator = await EmulatorHost.StartAsync(new EmulatorOptions());

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}

/// <summary>
/// The landing feature's real services over a real SQLite file and the real emulator: no fakes between the page and
/// the marketplace's wire.
/// </summary>
public static class LandingServices
{
    public static void AddLandingUnderTest(this IServiceCollection services, TestDatabase db, RunningEmulator emulator)
    {
        services.AddLogging();
        services.AddSingleton(db.Database);
        // The system clock: the marketplace client's retry and Retry-After waits run on it, and nothing here advances
        // a fake one (a fake clock hung the unavailable-marketplace test).
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SubscriptionStore>();
        services.AddSingleton<OperationStore>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<LandingStore>();
        services.AddSingleton<PlanStore>();
        services.AddSingleton<PublisherPortal.Offers.OfferPolicyStore>();
        services.AddSingleton<PublisherPortal.Offers.OfferNames>();
        services.AddSingleton<PublisherPortal.Offers.ActivationApprovalStore>();
        services.AddScoped<LandingService>();
        services.AddScoped<CustomerSubscriptions>();
        services.AddScoped<SubscriptionChangeService>();
        services.AddSingleton<PublisherPortal.Webhooks.ISeatUsage, PublisherPortal.Webhooks.UnknownSeatUsage>();
        services.AddSingleton<ChangeRules>();
        services.AddOptions<LandingOptions>().Configure(o =>
        {
            // The emulator activates at once; one look is enough and no test waits on the fake clock.
            o.ActivationConfirmAttempts = 1;
        });
        services.AddMarketplaceClient(options =>
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
    }

    public static CurrentUser AsUser(this DemoIdentity person) =>
        new(person.ObjectId.ToString(), person.TenantId, person.Email, person.DisplayName);

    public static AccountSetup ValidSetup() => new()
    {
        OrganisationName = "Contoso",
        AdminName = "Alice Customer",
        AdminEmail = "alice@contoso.example",
        DataRegion = "northeurope",
    };
}
