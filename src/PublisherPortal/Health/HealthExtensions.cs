using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Health;

public static class HealthExtensions
{
    public const string ReadyTag = "ready";

    /// <summary>
    /// The integration checks behind /health, their scheduled monitor and alerts, and the readiness probes for a load
    /// balancer. Thresholds and the alert webhook come from the "Health" section.
    /// </summary>
    public static IHostApplicationBuilder AddHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthServices(builder.Configuration.GetSection(HealthOptions.Section));
        return builder;
    }

    /// <summary>Everything <see cref="AddHealth"/> registers, for hosts built without the portal's Program (tests).</summary>
    public static IServiceCollection AddHealthServices(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<HealthOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<JobLeaseStore>();
        services.TryAddSingleton<ReconciliationRunStore>();
        services.TryAddSingleton<WorkerIdentity>();
        services.AddWritableDatabaseCheck();   // readiness asks it

        // The page shows the checks in this order: what breaks everything first, what needs a follow-up last.
        services.AddSingleton<IIntegrationCheck, MarketplaceTokenCheck>();
        services.AddSingleton<IIntegrationCheck, CredentialExpiryCheck>();
        services.AddSingleton<IIntegrationCheck, WebhookCheck>();
        services.AddSingleton<IIntegrationCheck, AcknowledgementCheck>();
        services.AddSingleton<IIntegrationCheck, OperationCheck>();
        services.AddSingleton<IIntegrationCheck, ReconciliationCheck>();
        services.AddSingleton<IIntegrationCheck, AbandonedPurchaseCheck>();

        services.TryAddSingleton<HealthCheckStore>();
        services.TryAddSingleton<HealthAlerts>();
        services.TryAddSingleton<WebhookSelfTest>();
        services.TryAddSingleton<IntegrationHealth>();
        services.AddHttpClient(HealthAlerts.ClientName, http => http.Timeout = TimeSpan.FromSeconds(10));
        services.AddHostedService<HealthMonitor>();

        services.AddHealthChecks()
            .AddCheck<DatabaseReadyCheck>("database", HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<MarketplaceTokenReadyCheck>("marketplace-token", HealthStatus.Degraded, [ReadyTag], TimeSpan.FromSeconds(20));
        return services;
    }

    /// <summary>
    /// /healthz: liveness — the process answers; it runs no check, so a marketplace outage never gets instances
    /// restarted. /healthz/ready: readiness — database and marketplace token, names and states only (no exception text,
    /// no token, no personal data: probes are anonymous).
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false })
            .AllowAnonymous(); // a load balancer has no identity
        endpoints.MapHealthChecks("/healthz/ready", new HealthCheckOptions
            {
                Predicate = r => r.Tags.Contains(ReadyTag),
                ResponseWriter = WriteReadinessAsync,
            })
            .AllowAnonymous();
        return endpoints;
    }

    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                durationMs = (int)e.Value.Duration.TotalMilliseconds,
            }),
        }));
    }
}
