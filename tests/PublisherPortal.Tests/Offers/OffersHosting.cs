using Marketplace.Emulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Notifications;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Landing;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Offers;

/// <summary>Adds offer settings, the approval queue and the landing feature to a test host, with the portal's policies.</summary>
public static class OffersHosting
{
    public static void AddOffersWithPolicies(IServiceCollection services)
    {
        services.AddLogging();
        services.AddConsoleServices();
        services.AddOfferServices();
        services.AddSingleton<LandingStore>();
        services.AddScoped<LandingService>();
        services.AddOptions<LandingOptions>().Configure(o => o.ActivationConfirmAttempts = 3);
        AddPolicies(services);
    }

    /// <summary>
    /// Offer policies and the notification services together, as the portal runs them: the planner follows every history
    /// event the offers code writes. No SMTP host, so mails stay in the outbox for the test to read.
    /// </summary>
    public static void AddOffersWithPoliciesAndMail(IServiceCollection services)
    {
        AddOffersWithPolicies(services);
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OperatorAddresses:0"] = OperatorMail,
            ["PortalUrl"] = "https://portal.contoso.example/",
        }).Build();
        services.AddNotificationServices(section);
    }

    /// <summary>The one operator address the mail-enabled host pages.</summary>
    public const string OperatorMail = "olivia@publisher.example";

    /// <summary>An offer that waits for an operator before activation and asks the customer one required number.</summary>
    public static OfferPolicy ApprovalPolicy(string offerId) => OfferPolicy.DefaultFor(offerId) with
    {
        Activation = ActivationMode.OperatorApproval,
        CustomFields = [new CustomField { Name = "retention-days", Label = "Retention (days)", Type = CustomFieldType.Number, Required = true, Min = 7, Max = 365 }],
    };

    /// <summary>
    /// Alice buys <paramref name="offerId"/> (its policy is <see cref="ApprovalPolicy"/>),
    /// sets up her account, and presses the last button of the wizard.
    /// </summary>
    public static async Task<(Guid Id, string Token)> SubmitForApprovalAsync(WebhookScenario scenario, IServiceProvider portal, string offerId)
    {
        var alice = DemoIdentities.Alice.AsUser();
        var purchase = await scenario.Simulator.PurchaseAsync(new PurchaseRequest { OfferId = offerId, PlanId = "pro", Quantity = 10, SubscriptionName = "Contoso backup" });
        var landing = portal.CreateScope().ServiceProvider.GetRequiredService<LandingService>();
        Assert.IsType<LandingOutcome.ReadyToActivate>(await landing.OpenAsync(purchase.Token, alice));
        var setup = LandingServices.ValidSetup();
        setup.Answers["retention-days"] = "30";
        await landing.SaveSetupAsync(purchase.SubscriptionId, setup, alice);
        Assert.IsType<ActivationOutcome.AwaitingApproval>(await landing.ActivateAsync(purchase.SubscriptionId, alice));
        return (purchase.SubscriptionId, purchase.Token);
    }

    /// <summary>The policies as Identity/IdentityExtensions defines them.</summary>
    public static void AddPolicies(IServiceCollection services) =>
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Operator, p => p.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Policies.Staff, p => p.RequireRole(Roles.Operator, Roles.Finance, Roles.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin));

    /// <summary>A policy saved straight through the store, as an admin's save would leave it.</summary>
    public static async Task SaveAsync(PortalDatabase database, OfferPolicy policy)
    {
        var store = new OfferPolicyStore(database);
        var before = await store.FindAsync(policy.OfferId);
        await using var connection = await database.OpenAsync();
        await using var tx = await database.BeginWriteAsync(connection);
        var outcome = await store.SaveAsync(policy, before.Version, "ada@publisher.example", DateTimeOffset.UtcNow, connection, tx);
        Assert.IsType<PolicySaveOutcome.Saved>(outcome);
        await tx.CommitAsync();
    }
}
