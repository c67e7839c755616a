using Marketplace.Emulator;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console.Approvals;
using PublisherPortal.Landing;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Offers;

/// <summary>
/// The emulator on loopback and the portal's real services over one database, with <see cref="Offer"/> set to operator
/// approval: where the approval tests and the approval mail tests start. Each class says which services it runs.
/// </summary>
public abstract class ApprovalOfferScenario(Action<IServiceCollection> services) : IAsyncLifetime
{
    protected const string Offer = EmulatorCatalogue.BackupOffer;

    protected WebhookScenario Scenario { get; private set; } = default!;

    protected WebhookTestHost Portal { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        Scenario = await WebhookScenario.StartAsync();
        Portal = await Scenario.StartPortalAsync(services: services);
        await OffersHosting.SaveAsync(Scenario.Database, OffersHosting.ApprovalPolicy(Offer));
    }

    public async Task DisposeAsync() => await Scenario.DisposeAsync();

    /// <summary>A purchase of the approval offer, taken by Alice through the wizard to "awaiting approval".</summary>
    protected Task<(Guid Id, string Token)> SubmitAsync() => OffersHosting.SubmitForApprovalAsync(Scenario, Portal.Services, Offer);

    protected LandingService Landing() => Portal.Services.CreateScope().ServiceProvider.GetRequiredService<LandingService>();

    protected ApprovalActions Actions() => Portal.Services.CreateScope().ServiceProvider.GetRequiredService<ApprovalActions>();

    protected T Service<T>() where T : notnull => Portal.Services.GetRequiredService<T>();
}
