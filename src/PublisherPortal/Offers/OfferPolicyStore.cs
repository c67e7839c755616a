using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Offers;

/// <summary>What came of saving an offer's settings.</summary>
public abstract record PolicySaveOutcome
{
    public sealed record Saved(OfferPolicy Policy) : PolicySaveOutcome;

    /// <summary>Someone saved since the editor loaded <paramref name="Current"/>'s predecessor; nothing was written.</summary>
    public sealed record Conflict(OfferPolicy Current) : PolicySaveOutcome;
}

/// <summary>
/// The offer_policies table. An offer without a row has the defaults (<see cref="OfferPolicy.DefaultFor"/>). Saves are
/// guarded by the version the editor read: the second of two admins saving at once changes nothing and learns who won.
/// </summary>
public sealed class OfferPolicyStore(PortalDatabase database)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private sealed record Row
    {
        public string OfferId { get; init; } = "";
        public string Activation { get; init; } = "";
        public bool AcceptChanges { get; init; }
        public string AllowedPlanMoves { get; init; } = "[]";
        public string MinimumSeats { get; init; } = "";
        public int? MinimumSeatsFixed { get; init; }
        public string CustomFields { get; init; } = "[]";
        public long Version { get; init; }
        public DateTimeOffset UpdatedAt { get; init; }
        public string UpdatedBy { get; init; } = "";
    }

    private const string SelectColumns = """
        SELECT offer_id, activation, accept_changes, allowed_plan_moves, minimum_seats, minimum_seats_fixed,
               custom_fields, version, updated_at, updated_by
        FROM offer_policies
        """;

    /// <summary>The offer's settings, or its defaults when nobody saved any.</summary>
    public async Task<OfferPolicy> FindAsync(string offerId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await FindAsync(offerId, connection, null, ct);
    }

    /// <summary>Inside the caller's transaction: the webhook decision reads the rules with the state it decides on.</summary>
    public async Task<OfferPolicy> FindAsync(string offerId, DbConnection connection, DbTransaction? tx, CancellationToken ct = default)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            SelectColumns + " WHERE offer_id = @offerId", new { offerId }, tx, cancellationToken: ct));
        return row is null ? OfferPolicy.DefaultFor(offerId) : ToPolicy(row);
    }

    public async Task<IReadOnlyList<OfferPolicy>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(SelectColumns + " ORDER BY offer_id", cancellationToken: ct));
        return rows.Select(ToPolicy).ToList();
    }

    /// <summary>
    /// Writes <paramref name="policy"/> if the stored version is still <paramref name="expectedVersion"/> (0: no row yet).
    /// The row's version then goes up by one.
    /// </summary>
    public async Task<PolicySaveOutcome> SaveAsync(
        OfferPolicy policy, long expectedVersion, string actor, DateTimeOffset now, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        var args = new
        {
            offerId = policy.OfferId,
            activation = policy.Activation.ToString(),
            acceptChanges = policy.AcceptChanges,
            allowedPlanMoves = JsonSerializer.Serialize(policy.AllowedPlanMoves, Json),
            minimumSeats = policy.MinimumSeats.ToString(),
            minimumSeatsFixed = policy.MinimumSeats == MinimumSeatsRule.Fixed ? policy.MinimumSeatsFixed : null,
            customFields = JsonSerializer.Serialize(policy.CustomFields, Json),
            expectedVersion,
            newVersion = expectedVersion + 1,
            now,
            actor,
        };

        var written = expectedVersion == 0
            ? await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO offer_policies (offer_id, activation, accept_changes, allowed_plan_moves, minimum_seats,
                                            minimum_seats_fixed, custom_fields, version, updated_at, updated_by)
                VALUES (@offerId, @activation, @acceptChanges, @allowedPlanMoves, @minimumSeats,
                        @minimumSeatsFixed, @customFields, @newVersion, @now, @actor)
                ON CONFLICT (offer_id) DO NOTHING
                """, args, tx, cancellationToken: ct))
            : await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE offer_policies
                SET activation = @activation, accept_changes = @acceptChanges, allowed_plan_moves = @allowedPlanMoves,
                    minimum_seats = @minimumSeats, minimum_seats_fixed = @minimumSeatsFixed, custom_fields = @customFields,
                    version = @newVersion, updated_at = @now, updated_by = @actor
                WHERE offer_id = @offerId AND version = @expectedVersion
                """, args, tx, cancellationToken: ct));

        var stored = await FindAsync(policy.OfferId, connection, tx, ct);
        return written == 1 ? new PolicySaveOutcome.Saved(stored) : new PolicySaveOutcome.Conflict(stored);
    }

    private static OfferPolicy ToPolicy(Row row) => new()
    {
        OfferId = row.OfferId,
        Activation = Enum.TryParse<ActivationMode>(row.Activation, out var activation) ? activation : ActivationMode.Automatic,
        AcceptChanges = row.AcceptChanges,
        AllowedPlanMoves = Parse<List<PlanMove>>(row.AllowedPlanMoves) ?? [],
        MinimumSeats = Enum.TryParse<MinimumSeatsRule>(row.MinimumSeats, out var minimum) ? minimum : MinimumSeatsRule.None,
        MinimumSeatsFixed = row.MinimumSeatsFixed,
        CustomFields = Parse<List<CustomField>>(row.CustomFields) ?? [],
        Version = row.Version,
        UpdatedAt = row.UpdatedAt,
        UpdatedBy = row.UpdatedBy,
    };

    private static T? Parse<T>(string json) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json);
        }
        catch (JsonException)
        {
            // Written by a later version in a shape this one cannot read: its defaults stand until an admin saves again.
            return null;
        }
    }
}
