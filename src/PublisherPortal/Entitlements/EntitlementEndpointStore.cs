using System.Security.Cryptography;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Entitlements;

/// <summary>An endpoint of the product that receives entitlement events.</summary>
public sealed record EntitlementEndpoint
{
    public long Id { get; init; }
    public string Url { get; init; } = "";
    public string Description { get; init; } = "";
    public string Secret { get; init; } = "";
    public string? PreviousSecret { get; init; }
    public DateTimeOffset? PreviousSecretUntil { get; init; }
    public bool Enabled { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string CreatedBy { get; init; } = "";

    /// <summary>
    /// The secrets that sign now: the previous one until its overlap ends, then the current one. The previous one comes
    /// first because the StandardWebhooks package (1.1.2) checks only the first signature of the header, and during
    /// the overlap the product most likely still holds the old secret; a product that switched early checks each
    /// signature of the header on its own (the specification lets a header carry several).
    /// </summary>
    public IReadOnlyList<string> ActiveSecrets(DateTimeOffset now) =>
        PreviousSecret is { } previous && PreviousSecretUntil > now ? [previous, Secret] : [Secret];
}

/// <summary>The entitlement_endpoints table: what an Admin configures.</summary>
public sealed class EntitlementEndpointStore(PortalDatabase database, TimeProvider time)
{
    private const string Columns = "id, url, description, secret, previous_secret, previous_secret_until, enabled, created_at, created_by";

    /// <summary>A new signing secret in the Standard Webhooks form: whsec_ and 32 random bytes in base64.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Adds an endpoint with a fresh secret; events committed from now on are sent to it.</summary>
    public async Task<EntitlementEndpoint> AddAsync(Uri url, string description, string actor, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleAsync<EntitlementEndpoint>(new CommandDefinition($"""
            INSERT INTO entitlement_endpoints (url, description, secret, enabled, created_at, created_by)
            VALUES (@url, @description, @secret, @enabled, @now, @actor)
            RETURNING {Columns}
            """,
            new { url = url.ToString(), description, secret = NewSecret(), enabled = true, now = time.GetUtcNow(), actor },
            cancellationToken: ct));
    }

    /// <summary>
    /// A new secret signs from now on; the old one keeps signing beside it for <paramref name="overlap"/>, so a product
    /// that still checks the old one accepts every event while it switches.
    /// </summary>
    public async Task<EntitlementEndpoint?> RotateSecretAsync(long id, TimeSpan overlap, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<EntitlementEndpoint>(new CommandDefinition($"""
            UPDATE entitlement_endpoints
            SET previous_secret = secret, previous_secret_until = @until, secret = @secret
            WHERE id = @id
            RETURNING {Columns}
            """, new { id, secret = NewSecret(), until = time.GetUtcNow() + overlap }, cancellationToken: ct));
    }

    public async Task SetEnabledAsync(long id, bool enabled, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE entitlement_endpoints SET enabled = @enabled WHERE id = @id", new { id, enabled }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<EntitlementEndpoint>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return [.. await connection.QueryAsync<EntitlementEndpoint>(new CommandDefinition(
            $"SELECT {Columns} FROM entitlement_endpoints ORDER BY id", cancellationToken: ct))];
    }
}
