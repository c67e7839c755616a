using Dapper;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PublisherPortal.Data;

/// <summary>
/// Readiness: this instance can reach the shared database. A load balancer stops sending it traffic while the answer is
/// no (a webhook answered 200 must be a committed row), but must not restart it for that — liveness stays separate.
/// </summary>
public sealed class DatabaseHealthCheck(PortalDatabase database) : IHealthCheck
{
    public const string ReadyTag = "ready";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{database.Provider} database unreachable: {e.GetType().Name}");
        }
    }
}

public static class HealthEndpoints
{
    /// <summary>/healthz: the process answers (liveness, checks nothing else). /healthz/ready: and it can reach its database.</summary>
    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = check => !check.Tags.Contains(DatabaseHealthCheck.ReadyTag) }).AllowAnonymous();
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(DatabaseHealthCheck.ReadyTag) }).AllowAnonymous();
    }
}
