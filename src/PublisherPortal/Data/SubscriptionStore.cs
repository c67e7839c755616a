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

    /// <summary>
    /// The marketplace says the plan has no seats (its operation or subscription carries no quantity). Used only when our
    /// catalogue does not know the plan; when it does, its flat rate or per-seat pricing decides (see ApplyChangeAsync).
    /// </summary>
    public bool ClearsSeats { get; init; }
}

/// <summary>
/// A marketplace status change that arrived late: a newer change of the same subscription was applied before it.
/// It belongs in the history at <see cref="MarketplaceTimeStamp"/>, never in the live row.
/// </summary>
public sealed record LateStatusChange(
    Guid SubscriptionId, string Kind, SubscriptionStatus ToStatus, DateTimeOffset MarketplaceTimeStamp, string Source, string? Actor)
{
    public Guid? OperationId { get; init; }
    public string? Detail { get; init; }
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

    private const string SelectEvents = """
        SELECT id, subscription_id, offer_id, occurred_at, kind, from_status, to_status, from_plan, to_plan,
               from_quantity, to_quantity, source, actor, operation_id, detail, marketplace_time_stamp
        FROM subscription_events
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
    /// Offer and plan of each known subscription among <paramref name="ids"/>, in one query: usage intake checks a whole
    /// batch's dimensions with it, and a full row per report cost it most of its time. Unknown ids are simply absent.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, SubscriptionPlanRef>> PlansOfAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct = default)
    {
        if (ids.Count == 0)
        {
            return new Dictionary<Guid, SubscriptionPlanRef>();
        }

        await using var connection = await database.OpenAsync(ct);
        // Ids are lowercase text on both databases. Dapper expands the list into one parameter per id on SQLite, and
        // passes it to Npgsql as one text[] parameter.
        var rows = await connection.QueryAsync<SubscriptionPlanRef>(new CommandDefinition(database.Sql(
                sqlite: "SELECT id, offer_id, plan_id FROM subscriptions WHERE id IN @ids",
                postgres: "SELECT id, offer_id, plan_id FROM subscriptions WHERE id = ANY(@ids)"),
            new { ids = ids.Select(id => id.ToString("D")).ToArray() }, cancellationToken: ct));
        return rows.ToDictionary(r => r.Id);
    }

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
        var planId = change.PlanId ?? current.PlanId;
        // A flat-rate plan has no seats, whoever moved the subscription onto it: a seat count left behind would show on
        // every screen and in finance's history as seats nobody is billed for (docs/marketplace.md#plan-object).
        var planMoves = !string.Equals(planId, current.PlanId, StringComparison.Ordinal);
        var flatRate = (planMoves || change.ClearsSeats)
            && (await IsFlatRateAsync(current.OfferId, planId, connection, tx, ct) ?? (change.ClearsSeats && change.Quantity is null));
        var quantity = flatRate ? null : change.Quantity ?? current.Quantity;
        var detail = flatRate && current.Quantity is { } dropped
            ? $"{(change.Detail is { Length: > 0 } d ? d + "; " : "")}seats no longer apply: plan '{planId}' is flat-rate (was {dropped})"
            : change.Detail;
        var updated = current with
        {
            Status = change.Status ?? current.Status,
            PlanId = planId,
            Quantity = quantity,
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
            Detail = detail,
            MarketplaceTimeStamp = change.MarketplaceTimeStamp,
        }, connection, tx, ct);

        return new ChangeResult(ChangeOutcome.Applied, updated);
    }

    /// <summary>Whether our catalogue lists the plan as flat-rate (true), per seat (false), or does not know it (null).</summary>
    public static async Task<bool?> IsFlatRateAsync(string offerId, string planId, DbConnection connection, DbTransaction? tx, CancellationToken ct = default)
    {
        var perSeat = await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition("""
            SELECT is_price_per_seat FROM plans WHERE offer_id = @offerId AND plan_id = @planId
            """, new { offerId, planId }, tx, cancellationToken: ct));
        return perSeat is null ? null : !perSeat.Value;
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
                from_quantity, to_quantity, source, actor, operation_id, detail, marketplace_time_stamp)
            VALUES (
                @SubscriptionId, @OfferId, @OccurredAt, @Kind, @FromStatus, @ToStatus, @FromPlan, @ToPlan,
                @FromQuantity, @ToQuantity, @Source, @Actor, @OperationId, @Detail, @MarketplaceTimeStamp)
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
        var rows = await connection.QueryAsync<SubscriptionEvent>(new CommandDefinition(SelectEvents + """
             WHERE subscription_id = @subscriptionId
             ORDER BY occurred_at, id
            """, new { subscriptionId }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// Writes a marketplace status change that arrived after a newer change had been applied (a redelivered Suspend
    /// whose Reinstate came first) into the history at its true place, without touching the live row: current state
    /// is already right, but finance bills from the history, so the spell it opened must be there. The event goes
    /// before the first event caused by a newer marketplace change (the one that ended the spell), at the change's own
    /// timeStamp when that fits between its neighbours; that later event's from_status then names the status the late
    /// change left, so every event still starts where the one before it ended. Returns null, writing nothing, when the
    /// change cannot be placed: no newer marketplace event is known (events from before this was recorded), the history
    /// already has the subscription in that status there, or the newer change leads into the same status.
    /// </summary>
    public async Task<SubscriptionEvent?> RecordLateStatusChangeAsync(
        LateStatusChange change, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        var closing = await connection.QueryFirstOrDefaultAsync<SubscriptionEvent>(new CommandDefinition(SelectEvents + """
             WHERE subscription_id = @subscriptionId AND marketplace_time_stamp > @timeStamp
             ORDER BY occurred_at, id
             LIMIT 1
            """, new { subscriptionId = change.SubscriptionId, timeStamp = change.MarketplaceTimeStamp }, tx, cancellationToken: ct));
        if (closing is null)
        {
            return null;
        }

        // The closing event was written from the state the late change found (ApplyChangeAsync records from_* as the
        // row was), so that is where the late change starts; if the history has that status already, nothing is missing.
        // A newer change into the same status (a later suspension) hides where the late one ended: nothing to place.
        var toStatus = change.ToStatus.ToString();
        if (closing.FromStatus is not { } foundStatus || foundStatus == toStatus || closing.ToStatus == toStatus)
        {
            return null;
        }

        var previous = await connection.QueryFirstOrDefaultAsync<SubscriptionEvent>(new CommandDefinition(SelectEvents + """
             WHERE subscription_id = @subscriptionId
               AND (occurred_at < @closingAt OR (occurred_at = @closingAt AND id < @closingId))
             ORDER BY occurred_at DESC, id DESC
             LIMIT 1
            """, new { subscriptionId = change.SubscriptionId, closingAt = closing.OccurredAt, closingId = closing.Id }, tx, cancellationToken: ct));

        // Whole microseconds: PostgreSQL keeps no finer, and the place must be the same after the round trip.
        var at = change.MarketplaceTimeStamp.AddTicks(-(change.MarketplaceTimeStamp.UtcTicks % 10));
        if (previous is not null && at < previous.OccurredAt)
        {
            // Our clock and the marketplace's disagree a little: never before what the history already has before it.
            at = previous.OccurredAt;
        }

        if (at >= closing.OccurredAt)
        {
            at = closing.OccurredAt.AddTicks(-10);
            if (previous is not null && at < previous.OccurredAt)
            {
                return null; // no instant left between the two: rows of one instant sort by id, so it would land after
            }
        }

        var late = new SubscriptionEvent
        {
            SubscriptionId = change.SubscriptionId,
            OfferId = closing.OfferId,
            OccurredAt = at,
            Kind = change.Kind,
            FromStatus = foundStatus,
            ToStatus = toStatus,
            FromPlan = closing.FromPlan,
            ToPlan = closing.FromPlan,
            FromQuantity = closing.FromQuantity,
            ToQuantity = closing.FromQuantity,
            Source = change.Source,
            Actor = change.Actor,
            OperationId = change.OperationId,
            Detail = change.Detail,
            MarketplaceTimeStamp = change.MarketplaceTimeStamp,
        };
        await AppendEventAsync(late, connection, tx, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscription_events SET from_status = @toStatus
            WHERE id = @closingId AND from_status = @foundStatus
            """, new { toStatus, closingId = closing.Id, foundStatus }, tx, cancellationToken: ct));
        return late;
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

/// <summary>Which plan of which offer a subscription is on: all usage intake needs to know of it.</summary>
public sealed record SubscriptionPlanRef
{
    public Guid Id { get; init; }
    public string OfferId { get; init; } = "";
    public string PlanId { get; init; } = "";
}
