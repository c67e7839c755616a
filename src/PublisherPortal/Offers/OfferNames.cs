using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Offers;

/// <summary>
/// The offer_display_names table: the name customers read for an offer. The marketplace names offers only by id, so an
/// Admin repeats the listing's name here; until then the id is shown. Every save is audited.
/// </summary>
public sealed class OfferNames(PortalDatabase database, AuditLog audit, TimeProvider time)
{
    public const string AuditAction = "OfferDisplayNameChanged";
    public const int MaxLength = 120;

    /// <summary>Every named offer, by id (ids compare case-insensitively, as the marketplace's do).</summary>
    public async Task<IReadOnlyDictionary<string, string>> AllAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<(string OfferId, string DisplayName)>(new CommandDefinition(
            "SELECT offer_id, display_name FROM offer_display_names", cancellationToken: ct));
        return rows.ToDictionary(r => r.OfferId, r => r.DisplayName, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The offer's name, or its id when nobody named it.</summary>
    public async Task<string> NameOfAsync(string offerId, CancellationToken ct = default) =>
        (await AllAsync(ct)).GetValueOrDefault(offerId) ?? offerId;

    /// <summary>Saves the name (blank removes it: the id shows again). Returns the problem in an Admin's words, or null.</summary>
    public async Task<string?> SaveAsync(string offerId, string? displayName, string actor, CancellationToken ct = default)
    {
        var name = displayName?.Trim() ?? "";
        if (name.Length > MaxLength)
        {
            return $"Keep the name under {MaxLength} characters.";
        }

        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        if (name.Length == 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM offer_display_names WHERE offer_id = @offerId", new { offerId }, tx, cancellationToken: ct));
        }
        else
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO offer_display_names (offer_id, display_name, updated_at, updated_by)
                VALUES (@offerId, @name, @now, @actor)
                ON CONFLICT (offer_id) DO UPDATE SET display_name = excluded.display_name,
                    updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, new { offerId, name, now = time.GetUtcNow(), actor }, tx, cancellationToken: ct));
        }

        await audit.RecordAsync(actor, AuditAction, null, $"{offerId}: {(name.Length == 0 ? "shown by its id" : $"\"{name}\"")}", "Saved", connection, tx, ct);
        await tx.CommitAsync(ct);
        return null;
    }
}
