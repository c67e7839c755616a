using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Identity;

namespace PublisherPortal.Revenue;

/// <summary>The revenue feature: prices with their history, the MRR report and its exports (read-only for Finance).</summary>
public static class RevenueExtensions
{
    public const string MovementsExportPath = "/finance/revenue/movements.csv";
    public const string SubscriptionsExportPath = "/finance/revenue/subscriptions.csv";

    public static IHostApplicationBuilder AddRevenue(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RevenueOptions>().Bind(builder.Configuration.GetSection("Revenue"))
            .Validate(o => o.DefaultCurrency is { Length: 3 } c && c.All(char.IsAsciiLetterUpper),
                "Revenue:DefaultCurrency must be a three-letter ISO 4217 code such as USD.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RevenueQuery>();
        builder.Services.AddSingleton<RevenueCsvExport>();
        builder.Services.AddSingleton<RecordedPriceStore>();
        return builder;
    }

    /// <summary>GETs only, behind the Finance policy: they change nothing but the audit log.</summary>
    public static IEndpointRouteBuilder MapRevenueEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(MovementsExportPath, (HttpContext http, RevenueCsvExport export, AuditLog audit, TimeProvider time, ILoggerFactory logs) =>
        {
            var address = RevenueAddress.Read(http.Request.Query, time.GetUtcNow());
            return FinanceExtensions.StreamAuditedAsync(http, audit, time, logs, "RevenueMovementsExport", "revenue-movements",
                address.ToQueryString(), (body, progress, ct) => export.WriteMovementsAsync(body, address, progress, ct));
        }).RequireAuthorization(Policies.Finance);
        app.MapGet(SubscriptionsExportPath, (HttpContext http, RevenueCsvExport export, AuditLog audit, TimeProvider time, ILoggerFactory logs) =>
        {
            var address = RevenueAddress.Read(http.Request.Query, time.GetUtcNow());
            return FinanceExtensions.StreamAuditedAsync(http, audit, time, logs, "RevenueSubscriptionsExport", "revenue-by-subscription",
                $"at={FinanceCsvExport.Time(address.At)}&{address.ToQueryString()}",
                (body, progress, ct) => export.WriteSubscriptionsAsync(body, address, progress, ct));
        }).RequireAuthorization(Policies.Finance);
        return app;
    }
}
