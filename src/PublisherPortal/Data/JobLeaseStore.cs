using Dapper;

namespace PublisherPortal.Data;

/// <summary>
/// The job_leases table: a scheduled job (the reconciler) runs on one instance at a time. The holder of a lease that
/// ran out is presumed dead, and the next instance takes it over.
/// </summary>
public sealed class JobLeaseStore(PortalDatabase database)
{
    /// <summary>Takes or renews the lease on <paramref name="name"/> until <paramref name="until"/>. False when another instance holds it.</summary>
    public async Task<bool> TryAcquireAsync(string name, string owner, DateTimeOffset now, DateTimeOffset until, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO job_leases (name, owner, lease_until) VALUES (@name, @owner, @until)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
            WHERE job_leases.lease_until < @now OR job_leases.owner = @owner
            """, new { name, owner, now, until }, cancellationToken: ct)) == 1;
    }

    /// <summary>Until when <paramref name="name"/> is held, or null when nobody took it (or it was given back).</summary>
    public async Task<DateTimeOffset?> LeaseUntilAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<DateTimeOffset?>(new CommandDefinition(
            "SELECT lease_until FROM job_leases WHERE name = @name", new { name }, cancellationToken: ct));
    }

    /// <summary>Gives the lease back early, so another instance need not wait for it to run out.</summary>
    public async Task ReleaseAsync(string name, string owner, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM job_leases WHERE name = @name AND owner = @owner", new { name, owner }, cancellationToken: ct));
    }
}
