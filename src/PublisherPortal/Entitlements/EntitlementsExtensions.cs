namespace PublisherPortal.Entitlements;

public static class EntitlementsExtensions
{
    /// <summary>
    /// The product's entitlement API and its OpenAPI description. Needs AddMetering (the product's authentication and
    /// policy) and AddPortalData.
    /// </summary>
    public static IHostApplicationBuilder AddEntitlements(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EntitlementReader>();
        builder.Services.AddOpenApi(EntitlementEndpoints.OpenApiDocument, options =>
        {
            // The document describes what the product calls; the portal's pages and finance exports are not its business.
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
        });
        return builder;
    }
}
