using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using PublisherPortal.Data;
using PublisherPortal.Identity;

namespace PublisherPortal.Offers;

/// <summary>An offer the catalogue knows, with its plans and its current settings.</summary>
public sealed record OfferOverview(string OfferId, IReadOnlyList<OfferPlanChoice> Plans, OfferPolicy Policy);

public sealed record OfferPlanChoice(string PlanId, string DisplayName, bool IsPricePerSeat);

/// <summary>What came of an admin's save. Pages turn each case into a sentence.</summary>
public abstract record OfferSettingsResult
{
    public sealed record Saved(OfferPolicy Policy, IReadOnlyList<string> Changes) : OfferSettingsResult;

    /// <summary>Another admin saved first: nothing was written; <paramref name="Current"/> is what they saved.</summary>
    public sealed record SavedByOther(OfferPolicy Current) : OfferSettingsResult;

    public sealed record Invalid(IReadOnlyList<string> Problems) : OfferSettingsResult;

    public sealed record Unchanged : OfferSettingsResult;

    public sealed record Denied : OfferSettingsResult;
}

/// <summary>
/// Admins' offer settings: the list of offers (from the plans catalogue, and any offer that has settings), one offer's
/// settings, and saving them. Each save checks the Admin policy itself (a hidden button is not a permission), is
/// version-checked, and is audited with what changed, before and after.
/// </summary>
public sealed partial class OfferSettings(
    IAuthorizationService authorization,
    PortalDatabase database,
    OfferPolicyStore policies,
    AuditLog audit,
    TimeProvider time,
    ILogger<OfferSettings> logger)
{
    /// <summary>The audit action of a settings change; the settings page lists the trail by it.</summary>
    public const string AuditAction = "OfferSettingsChanged";

    private sealed record PlanRow
    {
        public string OfferId { get; init; } = "";
        public string PlanId { get; init; } = "";
        public string DisplayName { get; init; } = "";
        public bool IsPricePerSeat { get; init; }
    }

    public async Task<IReadOnlyList<OfferOverview>> ListAsync(CancellationToken ct = default)
    {
        var plans = await PlansAsync(null, ct);
        var saved = (await policies.ListAsync(ct)).ToDictionary(p => p.OfferId, StringComparer.Ordinal);
        return plans.Keys.Union(saved.Keys, StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(offerId => new OfferOverview(offerId, plans.GetValueOrDefault(offerId) ?? [], saved.GetValueOrDefault(offerId) ?? OfferPolicy.DefaultFor(offerId)))
            .ToList();
    }

    /// <summary>One offer; null when neither the catalogue nor the settings know it.</summary>
    public async Task<OfferOverview?> FindAsync(string offerId, CancellationToken ct = default)
    {
        var plans = await PlansAsync(offerId, ct);
        var policy = await policies.FindAsync(offerId, ct);
        var offerPlans = plans.GetValueOrDefault(offerId) ?? [];
        return offerPlans.Count == 0 && policy.IsDefault ? null : new OfferOverview(offerId, offerPlans, policy);
    }

    /// <summary>The settings changes of one offer, newest first, from the audit log.</summary>
    public async Task<IReadOnlyList<AuditEntry>> HistoryAsync(string offerId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<AuditEntry>(new CommandDefinition("""
            SELECT id, at, actor, action, subscription_id, detail, outcome
            FROM audit_log
            WHERE action = @action AND detail LIKE @prefix
            ORDER BY at DESC, id DESC
            LIMIT 50
            """, new { action = AuditAction, prefix = offerId.Replace("%", "", StringComparison.Ordinal) + ":%" }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// Saves <paramref name="edited"/> when the stored settings are still those of <paramref name="readVersion"/>.
    /// The audit row says who, when, and every setting's old and new value.
    /// </summary>
    public async Task<OfferSettingsResult> SaveAsync(ClaimsPrincipal user, OfferPolicy edited, long readVersion, CancellationToken ct = default)
    {
        var actor = CurrentUser.From(user).Actor;
        if (!(await authorization.AuthorizeAsync(user, Policies.Admin)).Succeeded)
        {
            Log.Denied(logger, actor, edited.OfferId);
            return new OfferSettingsResult.Denied();
        }

        if (edited.Problems() is { Count: > 0 } problems)
        {
            return new OfferSettingsResult.Invalid(problems);
        }

        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var before = await policies.FindAsync(edited.OfferId, connection, tx, ct);
        if (before.Version != readVersion)
        {
            await audit.RecordAsync(actor, AuditAction, null, $"{edited.OfferId}: not saved, {before.UpdatedBy} saved version {before.Version} first", "Conflict", connection, tx, ct);
            await tx.CommitAsync(ct);
            return new OfferSettingsResult.SavedByOther(before);
        }

        var changes = edited.DifferencesFrom(before);
        if (changes.Count == 0)
        {
            await tx.RollbackAsync(ct);
            return new OfferSettingsResult.Unchanged();
        }

        var outcome = await policies.SaveAsync(edited, readVersion, actor, time.GetUtcNow(), connection, tx, ct);
        if (outcome is PolicySaveOutcome.Conflict conflict)
        {
            await tx.RollbackAsync(ct);
            return new OfferSettingsResult.SavedByOther(conflict.Current);
        }

        var saved = ((PolicySaveOutcome.Saved)outcome).Policy;
        await audit.RecordAsync(actor, AuditAction, null, $"{edited.OfferId}: {string.Join("; ", changes)}", $"Saved version {saved.Version}", connection, tx, ct);
        await tx.CommitAsync(ct);
        Log.Saved(logger, actor, edited.OfferId, saved.Version);
        return new OfferSettingsResult.Saved(saved, changes);
    }

    private async Task<Dictionary<string, IReadOnlyList<OfferPlanChoice>>> PlansAsync(string? offerId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        const string AllPlans = """
            SELECT offer_id, plan_id, display_name, is_price_per_seat FROM plans ORDER BY offer_id, plan_id
            """;
        const string OfferPlans = """
            SELECT offer_id, plan_id, display_name, is_price_per_seat FROM plans WHERE offer_id = @offerId ORDER BY plan_id
            """;
        var rows = await connection.QueryAsync<PlanRow>(new CommandDefinition(offerId is null ? AllPlans : OfferPlans, new { offerId }, cancellationToken: ct));
        return rows.GroupBy(r => r.OfferId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<OfferPlanChoice>)g.Select(r => new OfferPlanChoice(r.PlanId, r.DisplayName, r.IsPricePerSeat)).ToList(), StringComparer.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Offer settings refused: {Actor} does not hold the Admin role (offer {OfferId})")]
        public static partial void Denied(ILogger logger, string actor, string offerId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Offer settings of {OfferId} saved by {Actor} as version {Version}")]
        public static partial void Saved(ILogger logger, string actor, string offerId, long version);
    }
}
