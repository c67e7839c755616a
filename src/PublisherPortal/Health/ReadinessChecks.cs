using Marketplace;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PublisherPortal.Data;

namespace PublisherPortal.Health;

/// <summary>
/// Readiness: can this instance durably write its database — reachable is not enough (<see cref="WritableDatabase"/>:
/// a deleted or replaced SQLite file, a read-only database, a PostgreSQL standby). Without it nothing it answers is true.
/// </summary>
public sealed class DatabaseReadyCheck(WritableDatabase writable) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // No exception in the result: the message can name a host or a user, and probes answer anonymously.
        var probe = await writable.ProbeAsync(cancellationToken);
        return probe.Writable
            ? HealthCheckResult.Healthy(probe.Detail)
            : new HealthCheckResult(context.Registration.FailureStatus, probe.Detail);
    }
}

/// <summary>
/// Readiness: can we get a marketplace token. Registered as Degraded on failure, not Unhealthy: the webhook endpoint
/// must stay up around the clock (docs/marketplace.md#answering-deliveries), and taking every instance out of the load balancer because Entra is
/// briefly unavailable would refuse deliveries we could still store.
/// </summary>
public sealed class MarketplaceTokenReadyCheck(IMarketplaceTokenProvider tokens) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await tokens.GetAccessTokenWithExpiryAsync(cancellationToken);
            return HealthCheckResult.Healthy("marketplace token available");
        }
        catch (MarketplaceException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "no marketplace token");
        }
    }
}
