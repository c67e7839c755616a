namespace PublisherPortal.Revenue;

/// <summary>The revenue feature: prices with their history, the MRR report and its exports (read-only for Finance).</summary>
public static class RevenueExtensions
{
    public static IHostApplicationBuilder AddRevenue(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RevenueOptions>().Bind(builder.Configuration.GetSection("Revenue"))
            .Validate(o => o.DefaultCurrency is { Length: 3 } c && c.All(char.IsAsciiLetterUpper),
                "Revenue:DefaultCurrency must be a three-letter ISO 4217 code such as USD.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RevenueQuery>();
        builder.Services.AddSingleton<RecordedPriceStore>();
        return builder;
    }
}
