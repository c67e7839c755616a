using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Offers;

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
