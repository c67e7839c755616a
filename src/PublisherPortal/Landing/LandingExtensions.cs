namespace PublisherPortal.Landing;

public static class LandingExtensions
{
    /// <summary>The customer's landing page, activation wizard and "My subscriptions".</summary>
    public static IHostApplicationBuilder AddLanding(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LandingOptions>()
            .Bind(builder.Configuration.GetSection(LandingOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LandingStore>();
        // The wizard asks each offer's custom fields and honours its approval setting (Offers feature).
        builder.Services.TryAddSingleton<Offers.OfferPolicyStore>();
        builder.Services.TryAddSingleton<Offers.ActivationApprovalStore>();
        builder.Services.AddScoped<LandingService>();
        builder.Services.AddScoped<CustomerSubscriptions>();
        return builder;
    }
}
