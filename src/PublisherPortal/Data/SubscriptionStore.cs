using System.Data.Common;
using Dapper;
using Marketplace.Models;

namespace PublisherPortal.Data;

/// <summary>A change of status, plan, seats or access, and why. Null means "leave as it is".</summary>
public sealed record SubscriptionChange(Guid SubscriptionId, string Kind, string Source, string? Actor)
{
    public SubscriptionStatus? Status { get; init; }
    public string? PlanId { get; init; }
    public int? Quantity { get; init; }
    public bool? AccessEnabled { get; init; }
    public SubscriptionTerm? Term { get; init; }
    public Guid? OperationId { get; init; }
    public string? Detail { get; init; }

    /// <summary>The marketplace's timeStamp of the change: a delivery older than the last applied one is stale.</summary>
    public DateTimeOffset? MarketplaceTimeStamp { get; init; }

    /// <summary>When set, the change applies only if nobody changed the row since it was read.</summary>
    public long? ExpectedVersion { get; init; }
}

public enum ChangeOutcome
{
    Applied,
    NotFound,
    VersionConflict,
}

public sealed record ChangeResult(ChangeOutcome Outcome, SubscriptionRecord? Subscription);

/// <summary>
/// The subscriptions table and its history. Every change of status, plan or seats goes through
/// <see cref="ApplyChangeAsync(SubscriptionChange, DbConnection, DbTransaction, CancellationToken)"/>, which writes the row and its
/// history event in one transaction: finance rebuilds any past state from the events, so none may be missing.
/// </summary>
/// <param name="follower">Told of every history event in the transaction that writes it (notifications queue their mails there).</param>
public sealed class SubscriptionStore(PortalDatabase database, TimeProvider time, ISubscriptionEventFollower? follower = null)
{
    private const string SelectColumns = """
        SELECT id, name, publisher_id, offer_id, plan_id, quantity, status,
               beneficiary_email, beneficiary_object_id, beneficiary_tenant_id, beneficiary_puid,
               purchaser_email, purchaser_object_id, purchaser_tenant_id, purchaser_puid,
               term_unit, term_start, term_end, auto_renew, is_test, is_free_trial, allowed_customer_operations,
               sandbox_type, session_mode, marketplace_created, access_enabled,
               account_organisation, account_admin_name, account_admin_email, account_settings, configured_at, configured_by,
               wizard_step, last_marketplace_change_at, first_seen_at, updated_at, last_synced_at, version
        FROM subscriptions
        """;

    public async Task<SubscriptionRecord?> FindAsync(Guid id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await FindAsync(id, connection, null, ct);
    }

    public Task<SubscriptionRecord?> FindAsync(Guid id, DbConnection connection, DbTransaction? tx, CancellationToken ct = default) =>
        connection.QuerySingleOrDefaultAsync<SubscriptionRecord>(
            new CommandDefinition(SelectColumns + " WHERE id = @id", new { id }, tx, cancellationToken: ct));

    /// <summary>
    /// Stores a subscription the first time we hear of it, or refreshes its descriptive fields (name, parties, term, flags).
    /// Status, plan and seats of a known subscription are not touched here: they change only through
    /// <see cref="ApplyChangeAsync(SubscriptionChange, DbConnection, DbTransaction, CancellationToken)"/>, which leaves history.
    /// Returns true when the subscription is new.
    /// </summary>
    public async Task<bool> RecordFromMarketplaceAsync(
        MarketplaceSubscription s, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var args = new
        {
            id = s.Id,
            name = s.Name,
            publisherId = s.PublisherId,
            offerId = s.OfferId,
            planId = s.PlanId,
            quantity = s.Quantity,
            status = s.SaasSubscriptionStatus.ToString(),
            beneficiaryEmail = s.Beneficiary?.EmailId,
            beneficiaryObjectId = s.Beneficiary?.ObjectId,
            beneficiaryTenantId = s.Beneficiary?.TenantId,
            beneficiaryPuid = s.Beneficiary?.Puid,
            purchaserEmail = s.Purchaser?.EmailId,
            purchaserObjectId = s.Purchaser?.ObjectId,
            purchaserTenantId = s.Purchaser?.TenantId,
            purchaserPuid = s.Purchaser?.Puid,
            termUnit = s.Term?.TermUnit,
            termStart = s.Term?.StartDate,
            termEnd = s.Term?.EndDate,
            autoRenew = s.AutoRenew,
            isTest = s.IsTest,
            isFreeTrial = s.IsFreeTrial,
            allowedCustomerOperations = string.Join(',', s.AllowedCustomerOperations.Select(o => o.Trim())),
            sandboxType = s.SandboxType,
            sessionMode = s.SessionMode,
            marketplaceCreated = s.Created,
            accessEnabled = s.SaasSubscriptionStatus == SubscriptionStatus.Subscribed,
            now,
        };

        var inserted = await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO subscriptions (
                id, name, publisher_id, offer_id, plan_id, quantity, status,
                beneficiary_email, beneficiary_object_id, beneficiary_tenant_id, beneficiary_puid,
                purchaser_email, purchaser_object_id, purchaser_tenant_id, purchaser_puid,
                term_unit, term_start, term_end, auto_renew, is_test, is_free_trial, allowed_customer_operations,
                sandbox_type, session_mode, marketplace_created, access_enabled, first_seen_at, updated_at, last_synced_at)
            VALUES (
                @id, @name, @publisherId, @offerId, @planId, @quantity, @status,
                @beneficiaryEmail, @beneficiaryObjectId, @beneficiaryTenantId, @beneficiaryPuid,
                @purchaserEmail, @purchaserObjectId, @purchaserTenantId, @purchaserPuid,
                @termUnit, @termStart, @termEnd, @autoRenew, @isTest, @isFreeTrial, @allowedCustomerOperations,
                @sandboxType, @sessionMode, @marketplaceCreated, @accessEnabled, @now, @now, @now)
            ON CONFLICT (id) DO NOTHING
            """, args, tx, cancellationToken: ct));

        if (inserted == 1)
        {
            return true;
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscriptions
            SET name = @name, beneficiary_email = @beneficiaryEmail, beneficiary_object_id = @beneficiaryObjectId,
                beneficiary_tenant_id = @beneficiaryTenantId, beneficiary_puid = @beneficiaryPuid,
                purchaser_email = @purchaserEmail, purchaser_object_id = @purchaserObjectId,
                purchaser_tenant_id = @purchaserTenantId, purchaser_puid = @purchaserPuid,
                term_unit = @termUnit, term_start = @termStart, term_end = @termEnd, auto_renew = @autoRenew,
                is_test = @isTest, is_free_trial = @isFreeTrial, allowed_customer_operations = @allowedCustomerOperations,
                sandbox_type = @sandboxType, session_mode = @sessionMode, marketplace_created = @marketplaceCreated,
                last_synced_at = @now
            WHERE id = @id
            """, args, tx, cancellationToken: ct));
        return false;
    }

    /// <summary>Applies a change and writes its history event, in the caller's transaction.</summary>
    public async Task<ChangeResult> ApplyChangeAsync(
        SubscriptionChange change, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        var current = await FindAsync(change.SubscriptionId, connection, tx, ct);
        if (current is null)
        {
            return new ChangeResult(ChangeOutcome.NotFound, null);
        }

        if (change.ExpectedVersion is { } expected && expected != current.Version)
        {
            return new ChangeResult(ChangeOutcome.VersionConflict, current);
        }

        var now = time.GetUtcNow();
        var updated = current with
        {
            Status = change.Status ?? current.Status,
            PlanId = change.PlanId ?? current.PlanId,
            Quantity = change.Quantity ?? current.Quantity,
            AccessEnabled = change.AccessEnabled ?? current.AccessEnabled,
            TermUnit = change.Term?.TermUnit ?? current.TermUnit,
            TermStart = change.Term?.StartDate ?? current.TermStart,
            TermEnd = change.Term?.EndDate ?? current.TermEnd,
            LastMarketplaceChangeAt = change.MarketplaceTimeStamp is { } ts && ts > (current.LastMarketplaceChangeAt ?? DateTimeOffset.MinValue)
                ? ts
                : current.LastMarketplaceChangeAt,
            UpdatedAt = now,
            Version = current.Version + 1,
        };

        var rows = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscriptions
            SET status = @status, plan_id = @planId, quantity = @quantity, access_enabled = @accessEnabled,
                term_unit = @termUnit, term_start = @termStart, term_end = @termEnd,
                last_marketplace_change_at = @lastChange, updated_at = @now, version = version + 1
            WHERE id = @id AND version = @version
            """,
            new
            {
                id = current.Id,
                status = updated.Status.ToString(),
                planId = updated.PlanId,
                quantity = updated.Quantity,
                accessEnabled = updated.AccessEnabled,
                termUnit = updated.TermUnit,
                termStart = updated.TermStart,
                termEnd = updated.TermEnd,
                lastChange = updated.LastMarketplaceChangeAt,
                now,
                version = current.Version,
            }, tx, cancellationToken: ct));

        if (rows == 0)
        {
            return new ChangeResult(ChangeOutcome.VersionConflict, await FindAsync(change.SubscriptionId, connection, tx, ct));
        }

        await AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = current.Id,
            OfferId = current.OfferId,
            OccurredAt = now,
            Kind = change.Kind,
            FromStatus = current.Status.ToString(),
            ToStatus = updated.Status.ToString(),
            FromPlan = current.PlanId,
            ToPlan = updated.PlanId,
            FromQuantity = current.Quantity,
            ToQuantity = updated.Quantity,
            Source = change.Source,
            Actor = change.Actor,
            OperationId = change.OperationId,
            Detail = change.Detail,
        }, connection, tx, ct);

        return new ChangeResult(ChangeOutcome.Applied, updated);
    }

    /// <summary>Applies one change in a transaction of its own.</summary>
    public async Task<ChangeResult> ApplyChangeAsync(SubscriptionChange change, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var result = await ApplyChangeAsync(change, connection, tx, ct);
        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>Writes a history event that records something without changing status, plan or seats.</summary>
    public async Task AppendEventAsync(SubscriptionEvent e, DbConnection connection, DbTransaction? tx, CancellationToken ct = default)
    {
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO subscription_events (
                subscription_id, offer_id, occurred_at, kind, from_status, to_status, from_plan, to_plan,
                from_quantity, to_quantity, source, actor, operation_id, detail)
            VALUES (
                @SubscriptionId, @OfferId, @OccurredAt, @Kind, @FromStatus, @ToStatus, @FromPlan, @ToPlan,
                @FromQuantity, @ToQuantity, @Source, @Actor, @OperationId, @Detail)
            RETURNING id
            """, e, tx, cancellationToken: ct));

        if (follower is not null)
        {
            // Whatever the event owes (a mail to the customer, to operators) is written in this same transaction:
            // committed with the change or not at all, so a crash can neither lose nor invent a notification.
            await follower.FollowAsync(e with { Id = id }, connection, tx, ct);
        }
    }

    public async Task<IReadOnlyList<SubscriptionEvent>> HistoryAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<SubscriptionEvent>(new CommandDefinition("""
            SELECT id, subscription_id, offer_id, occurred_at, kind, from_status, to_status, from_plan, to_plan,
                   from_quantity, to_quantity, source, actor, operation_id, detail
            FROM subscription_events
            WHERE subscription_id = @subscriptionId
            ORDER BY occurred_at, id
            """, new { subscriptionId }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// The subscriptions a customer may see: those whose beneficiary or purchaser is the signed-in user, or their tenant.
    /// </summary>
    public async Task<IReadOnlyList<SubscriptionRecord>> ListForCustomerAsync(
        string? tenantId, string? objectId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<SubscriptionRecord>(new CommandDefinition(SelectColumns + """
             WHERE beneficiary_tenant_id = @tenantId OR purchaser_tenant_id = @tenantId
                OR beneficiary_object_id = @objectId OR purchaser_object_id = @objectId
             ORDER BY first_seen_at DESC
            """, new { tenantId = tenantId ?? "", objectId = objectId ?? "" }, cancellationToken: ct));
        return rows.AsList();
    }
}
