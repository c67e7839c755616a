using Marketplace;

namespace PublisherPortal.Subscriptions;

public static class MarketplaceRegistration
{
    /// <summary>The marketplace SDK bound to the "Marketplace" section (in demo mode it points at the emulator).</summary>
    public static IHostApplicationBuilder AddPortalMarketplace(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMarketplaceClient(builder.Configuration.GetSection("Marketplace"));
        return builder;
    }
}
