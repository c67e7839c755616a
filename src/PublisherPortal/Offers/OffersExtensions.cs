using PublisherPortal.Console.Approvals;

namespace PublisherPortal.Offers;

public static class OffersExtensions
{
    /// <summary>
    /// Offer settings (Admin pages under /admin/offers), the stores the landing wizard and the webhook decider read them
    /// from, and the operators' approval queue (/console/approvals).
    /// </summary>
    public static IHostApplicationBuilder AddOffers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOfferServices();
        return builder;
    }

    /// <summary>Everything <see cref="AddOffers"/> registers, for hosts built without the portal's Program (tests).</summary>
    public static IServiceCollection AddOfferServices(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OfferPolicyStore>();
        services.TryAddSingleton<OfferNames>();
        services.TryAddSingleton<ActivationApprovalStore>();
        services.TryAddScoped<OfferSettings>();
        services.TryAddSingleton<ApprovalQueue>();
        services.TryAddScoped<ApprovalActions>();
        return services;
    }
}
