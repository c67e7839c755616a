using Marketplace;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PublisherPortal.Offers;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Subscriptions;

public static class SubscriptionsExtensions
{
    /// <summary>
    /// The marketplace SDK bound to the "Marketplace" section (in demo mode it points at the emulator),
    /// and the services every page goes through to change a subscription.
    /// </summary>
    public static IHostApplicationBuilder AddSubscriptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMarketplaceClient(builder.Configuration.GetSection("Marketplace"));
        builder.Services.AddScoped<SubscriptionChangeService>();
        // One decision for every change, from every side (ChangeRules); webhooks use it too.
        builder.Services.TryAddSingleton<OfferPolicyStore>();
        builder.Services.TryAddSingleton<ISeatUsage, UnknownSeatUsage>();
        builder.Services.TryAddSingleton<ChangeRules>();
        return builder;
    }
}
