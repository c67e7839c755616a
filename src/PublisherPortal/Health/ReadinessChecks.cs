using Dapper;
using Marketplace;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PublisherPortal.Data;

namespace PublisherPortal.Health;

/// <summary>Readiness: can this instance reach its database. Without it nothing it answers is true.</summary>
public sealed class DatabaseReadyCheck(PortalDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return HealthCheckResult.Healthy("database reachable");
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // No exception in the result: the message can name a host or a user, and probes answer anonymously.
            return new HealthCheckResult(context.Registration.FailureStatus, "database unreachable");
        }
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
