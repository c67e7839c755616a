using Microsoft.Extensions.DependencyInjection.Extensions;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Entitlements;

public static class EntitlementsExtensions
{
    /// <summary>
    /// The product's entitlement API and its OpenAPI description, and the signed events sent to the product's endpoints:
    /// written with every entitlement change (a follower of history events), sent by a worker. Needs AddMetering (the
    /// product's authentication and policy) and AddPortalData.
    /// </summary>
    public static IHostApplicationBuilder AddEntitlements(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WorkerIdentity>();
        services.AddSingleton<EntitlementReader>();
        services.AddSingleton<EntitlementEndpointStore>();
        services.AddSingleton<EntitlementEventWriter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISubscriptionEventFollower, EntitlementEventWriter>(
            sp => sp.GetRequiredService<EntitlementEventWriter>()));

        services.AddOptions<EntitlementEventOptions>().Bind(builder.Configuration.GetSection(EntitlementEventOptions.Section));
        // Redirects are not followed: events go to the URL an Admin configured, nowhere else.
        services.AddHttpClient(EntitlementEventSender.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddSingleton<EntitlementEventSender>();
        services.AddHostedService(sp => sp.GetRequiredService<EntitlementEventSender>());

        services.AddOpenApi(EntitlementEndpoints.OpenApiDocument, options =>
        {
            // The document describes what the product calls; the portal's pages and finance exports are not its business.
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
        });
        return builder;
    }
}
