using System.Data.Common;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Metering;

/// <summary>A usage record as the intake stores it.</summary>
public sealed record UsageRecord
{
    public long Id { get; init; }
    public string Source { get; init; } = "";
    public string IdempotencyKey { get; init; } = "";
    public string RequestHash { get; init; } = "";
    public Guid SubscriptionId { get; init; }
    public string Dimension { get; init; } = "";
    public long QuantityMicros { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public DateTimeOffset HourStart { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>An hour claimed for sending, with the plan to name in the event.</summary>
public sealed record ClaimedHour
{
    public long Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public string Dimension { get; init; } = "";
    public DateTimeOffset HourStart { get; init; }
    public long QuantityMicros { get; init; }
    public string? PlanId { get; init; }
    public int Attempts { get; init; }
}

/// <summary>What the marketplace said about one hour, ready to be stored.</summary>
public sealed record HourOutcome(long Id, string State, string? ResultStatus, string? ResultDetail, string? UsageEventId, long? BilledQuantityMicros);

public sealed record AggregationResult(int Records, int LateRecords);

public sealed record UsageStateCount
{
    public string State { get; init; } = "";
    public long Hours { get; init; }
    public long QuantityMicros { get; init; }
}

/// <summary>Usage reported but not yet aggregated: hours still open, or closed and waiting for the worker.</summary>
public sealed record OpenUsage
{
    public Guid SubscriptionId { get; init; }
    public string Dimension { get; init; } = "";
    public DateTimeOffset HourStart { get; init; }
    public long Records { get; init; }
    public long QuantityMicros { get; init; }
}

/// <summary>One line of the finance export: an hour the marketplace bills.</summary>
public sealed record BilledUsageRow
{
    public Guid SubscriptionId { get; init; }
    public string? OfferId { get; init; }
    public string? PlanId { get; init; }
    public string Dimension { get; init; } = "";
    public DateTimeOffset HourStart { get; init; }
    public long QuantityMicros { get; init; }
    public long? BilledQuantityMicros { get; init; }
    public string State { get; init; } = "";
    public string? UsageEventId { get; init; }
    public DateTimeOffset? SubmittedAt { get; init; }
    public DateTimeOffset? AnsweredAt { get; init; }
}

/// <summary>
/// usage_records (what the product reported) and usage_hours (what goes to the marketplace, one row per subscription,
/// dimension and hour). Every state change of an hour happens here, in one statement or one transaction.
/// </summary>
public sealed class UsageStore(PortalDatabase database)
{
    private const string HourColumns = """
        id, subscription_id, dimension, hour_start, quantity_micros, record_count, late_quantity_micros, late_record_count,
        state, result_status, result_detail, plan_id, batch_id, usage_event_id, billed_quantity_micros, attempts,
        next_attempt_at, last_error, submitted_at, answered_at
        """;

    // ------------------------------------------------------------------ intake

    /// <summary>
    /// Stores each record unless one with the same source and idempotency key exists, all in one transaction, and returns
    /// the stored record for each either way, in order. One transaction for a whole batch is what makes batch intake fast:
    /// each commit takes the write lock and writes the log. A key repeated inside the batch finds the record stored a
    /// moment earlier.
    /// </summary>
    public async Task<IReadOnlyList<(UsageRecord Record, bool Inserted)>> RecordAllAsync(IReadOnlyList<UsageRecord> records, CancellationToken ct = default)
    {
        if (records.Count == 0)
        {
            return [];
        }

        const string insert = """
            INSERT INTO usage_records (source, idempotency_key, request_hash, subscription_id, dimension, quantity_micros,
                                       occurred_at, hour_start, received_at)
            VALUES (@Source, @IdempotencyKey, @RequestHash, @SubscriptionId, @Dimension, @QuantityMicros, @OccurredAt, @HourStart, @ReceivedAt)
            ON CONFLICT (source, idempotency_key) DO NOTHING
            RETURNING id
            """;
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var stored = new (UsageRecord, bool)[records.Count];
        // Inserted in key order, not in the order sent: on PostgreSQL an insert waits for another transaction that holds
        // the same key, so two batches sharing keys in opposite orders would deadlock. In one order they queue.
        foreach (var i in Enumerable.Range(0, records.Count).OrderBy(i => records[i].IdempotencyKey, StringComparer.Ordinal))
        {
            var record = records[i];
            var id = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(insert, record, tx, cancellationToken: ct));
            if (id is { } newId)
            {
                stored[i] = (record with { Id = newId }, true);
                continue;
            }

            var existing = await FindRecordAsync(connection, tx, record.Source, record.IdempotencyKey, ct)
                ?? throw new InvalidOperationException("A usage record conflicted on its idempotency key but cannot be read back.");
            stored[i] = (existing, false);
        }

        await tx.CommitAsync(ct);
        return stored;
    }

    private static Task<UsageRecord?> FindRecordAsync(DbConnection connection, DbTransaction tx, string source, string idempotencyKey, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<UsageRecord>(new CommandDefinition("""
            SELECT id, source, idempotency_key, request_hash, subscription_id, dimension, quantity_micros, occurred_at, hour_start, received_at
            FROM usage_records WHERE source = @source AND idempotency_key = @idempotencyKey
            """, new { source, idempotencyKey }, tx, cancellationToken: ct));

    // ------------------------------------------------------------------ aggregation

    /// <summary>
    /// Folds every record of a closed hour into its usage_hours row, in one transaction. Records for an hour still
    /// Pending add to it; records for an hour already sent (or refused, or expired) cannot change what the marketplace
    /// bills — one event per hour — so they are marked late and added to the hour's late quantity for operators to see.
    /// </summary>
    public async Task<AggregationResult> AggregateClosedHoursAsync(DateTimeOffset closedBefore, DateTimeOffset now, CancellationToken ct = default)
    {
        var batch = Guid.NewGuid().ToString("N");
        var args = new { closedBefore, now, batch };
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);

        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO usage_hours (subscription_id, dimension, hour_start, state, created_at, updated_at)
            SELECT subscription_id, dimension, hour_start, 'Pending', @now, @now
            FROM usage_records
            WHERE hour_id IS NULL AND hour_start < @closedBefore
            GROUP BY subscription_id, dimension, hour_start
            ON CONFLICT (subscription_id, dimension, hour_start) DO NOTHING
            """, args, tx, cancellationToken: ct));

        var records = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE usage_records SET
                hour_id = (SELECT h.id FROM usage_hours h
                           WHERE h.subscription_id = usage_records.subscription_id
                             AND h.dimension = usage_records.dimension
                             AND h.hour_start = usage_records.hour_start),
                aggregation_batch = @batch
            WHERE hour_id IS NULL AND hour_start < @closedBefore
            """, args, tx, cancellationToken: ct));

        var late = 0;
        if (records > 0)
        {
            late = await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE usage_records SET late = TRUE
                WHERE aggregation_batch = @batch
                  AND EXISTS (SELECT 1 FROM usage_hours h WHERE h.id = usage_records.hour_id AND h.state <> 'Pending')
                """, args, tx, cancellationToken: ct));

            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE usage_hours SET
                    quantity_micros = quantity_micros + (SELECT SUM(r.quantity_micros) FROM usage_records r
                                                         WHERE r.aggregation_batch = @batch AND r.hour_id = usage_hours.id),
                    record_count = record_count + (SELECT COUNT(*) FROM usage_records r
                                                   WHERE r.aggregation_batch = @batch AND r.hour_id = usage_hours.id),
                    updated_at = @now
                WHERE state = 'Pending' AND id IN (SELECT hour_id FROM usage_records WHERE aggregation_batch = @batch)
                """, args, tx, cancellationToken: ct));

            if (late > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE usage_hours SET
                        late_quantity_micros = late_quantity_micros + (SELECT SUM(r.quantity_micros) FROM usage_records r
                                                                       WHERE r.aggregation_batch = @batch AND r.hour_id = usage_hours.id),
                        late_record_count = late_record_count + (SELECT COUNT(*) FROM usage_records r
                                                                 WHERE r.aggregation_batch = @batch AND r.hour_id = usage_hours.id),
                        updated_at = @now
                    WHERE state <> 'Pending' AND id IN (SELECT hour_id FROM usage_records WHERE aggregation_batch = @batch AND late = TRUE)
                    """, args, tx, cancellationToken: ct));
            }
        }

        await tx.CommitAsync(ct);
        return new AggregationResult(records, late);
    }

    // ------------------------------------------------------------------ submission

    /// <summary>Hours that waited too long: the marketplace would refuse them, so they are flagged instead of sent.</summary>
    public async Task<int> ExpireUnsendableAsync(DateTimeOffset oldestSendable, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE usage_hours SET state = 'Expired', result_status = 'NotSent',
                   result_detail = 'Not sent within the marketplace''s 24-hour window; it can no longer be billed.', updated_at = @now
            WHERE state = 'Pending' AND hour_start < @oldestSendable
            """, new { oldestSendable, now }, cancellationToken: ct));
    }

    /// <summary>Batches marked Submitting whose answer was never recorded (a crash, a time-out), due for another attempt.</summary>
    public async Task<IReadOnlyList<string>> InFlightBatchesAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return [.. await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT DISTINCT batch_id FROM usage_hours
            WHERE state = 'Submitting' AND (next_attempt_at IS NULL OR next_attempt_at <= @now)
            """, new { now }, cancellationToken: ct))];
    }

    /// <summary>The hours of an in-flight batch, counted as one more attempt before they are sent again.</summary>
    public async Task<IReadOnlyList<ClaimedHour>> ReclaimBatchAsync(string batchId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE usage_hours SET attempts = attempts + 1, submitted_at = @now, updated_at = @now
            WHERE batch_id = @batchId AND state = 'Submitting'
            """, new { batchId, now }, tx, cancellationToken: ct));
        var hours = await connection.QueryAsync<ClaimedHour>(new CommandDefinition("""
            SELECT id, subscription_id, dimension, hour_start, quantity_micros, plan_id, attempts
            FROM usage_hours WHERE batch_id = @batchId AND state = 'Submitting' ORDER BY hour_start, id
            """, new { batchId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return [.. hours];
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> pending hours, oldest first (closest to expiry), and marks them Submitting
    /// with <paramref name="batchId"/> and the plan to send — committed before any call, so that after a crash the batch
    /// is found again and re-sent rather than forgotten or sent as new. Hours of subscriptions we do not know fail here.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedHour>> ClaimBatchAsync(
        string batchId, int limit, DateTimeOffset oldestSendable, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var candidates = (await connection.QueryAsync<ClaimedHour>(new CommandDefinition("""
            SELECT h.id, h.subscription_id, h.dimension, h.hour_start, h.quantity_micros, s.plan_id, h.attempts
            FROM usage_hours h LEFT JOIN subscriptions s ON s.id = h.subscription_id
            WHERE h.state = 'Pending' AND h.hour_start >= @oldestSendable
            ORDER BY h.hour_start, h.id
            LIMIT @limit
            """, new { oldestSendable, limit }, tx, cancellationToken: ct))).ToList();

        var unknown = candidates.Where(c => c.PlanId is null).Select(c => c.Id).ToList();
        if (unknown.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE usage_hours SET state = 'Failed', result_status = 'ResourceNotFound',
                       result_detail = 'The subscription is not in our records.', answered_at = @now, updated_at = @now
                WHERE id = @id AND state = 'Pending'
                """, unknown.Select(id => new { id, now }), tx, cancellationToken: ct));
        }

        var claimed = candidates.Where(c => c.PlanId is not null).Select(c => c with { Attempts = c.Attempts + 1 }).ToList();
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE usage_hours SET state = 'Submitting', batch_id = @batchId, plan_id = @PlanId, attempts = attempts + 1,
                   submitted_at = @now, next_attempt_at = NULL, updated_at = @now
            WHERE id = @Id AND state = 'Pending'
            """, claimed.Select(c => new { c.Id, c.PlanId, batchId, now }), tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return claimed;
    }

    /// <summary>No answer (time-out, 5xx, 403): the batch stays Submitting, to be sent again after <paramref name="nextAttemptAt"/>.</summary>
    public async Task PostponeBatchAsync(string batchId, DateTimeOffset nextAttemptAt, string error, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE usage_hours SET next_attempt_at = @nextAttemptAt, last_error = @error, updated_at = @now
            WHERE batch_id = @batchId AND state = 'Submitting'
            """, new { batchId, nextAttemptAt, error, now }, cancellationToken: ct));
    }

    /// <summary>Stores the marketplace's answers for a batch in one transaction; hours already answered are left alone.</summary>
    public async Task RecordOutcomesAsync(string batchId, IReadOnlyList<HourOutcome> outcomes, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE usage_hours SET state = @State, result_status = @ResultStatus, result_detail = @ResultDetail,
                   usage_event_id = COALESCE(@UsageEventId, usage_event_id), billed_quantity_micros = @BilledQuantityMicros,
                   answered_at = @now, next_attempt_at = NULL, last_error = NULL, updated_at = @now
            WHERE id = @Id AND batch_id = @batchId AND state = 'Submitting'
            """, outcomes.Select(o => new { o.Id, o.State, o.ResultStatus, o.ResultDetail, o.UsageEventId, o.BilledQuantityMicros, batchId, now }),
            tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>An operator sends a refused hour again (after reinstating the subscription, fixing the plan…).</summary>
    public async Task<bool> RequeueFailedAsync(long hourId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE usage_hours SET state = 'Pending', batch_id = NULL, result_status = NULL, result_detail = NULL,
                   next_attempt_at = NULL, updated_at = @now
            WHERE id = @hourId AND state = 'Failed'
            """, new { hourId, now }, cancellationToken: ct)) == 1;
    }

    /// <summary>One worker at a time across instances: takes or extends the named lease in job_leases.</summary>
    public async Task<bool> TryTakeLeaseAsync(string name, string owner, DateTimeOffset until, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO job_leases (name, owner, lease_until) VALUES (@name, @owner, @until)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
            WHERE job_leases.owner = @owner OR job_leases.lease_until < @now
            """, new { name, owner, until, now }, cancellationToken: ct)) == 1;
    }

    // ------------------------------------------------------------------ reading

    public async Task<UsageHour?> FindHourAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<UsageHour>(new CommandDefinition(
            $"SELECT {HourColumns} FROM usage_hours WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<UsageStateCount>> CountByStateAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return [.. await connection.QueryAsync<UsageStateCount>(new CommandDefinition("""
            SELECT state, COUNT(*) AS hours, COALESCE(SUM(quantity_micros), 0) AS quantity_micros FROM usage_hours GROUP BY state ORDER BY state
            """, cancellationToken: ct))];
    }

    /// <summary>Hours waiting to be sent or in flight, oldest first.</summary>
    public async Task<IReadOnlyList<UsageHour>> QueueAsync(int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return [.. await connection.QueryAsync<UsageHour>(new CommandDefinition($"""
            SELECT {HourColumns} FROM usage_hours WHERE state IN ('Pending', 'Submitting') ORDER BY hour_start, id LIMIT @limit
            """, new { limit }, cancellationToken: ct))];
    }

    /// <summary>Hours an operator must see: refused, expired, with late usage, or billed at another quantity. Newest first.</summary>
    public async Task<IReadOnlyList<UsageHour>> NeedingAttentionAsync(int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return [.. await connection.QueryAsync<UsageHour>(new CommandDefinition($"""
            SELECT {HourColumns} FROM usage_hours
            WHERE state IN ('Failed', 'Expired')
               OR late_quantity_micros > 0
               OR (state IN ('Accepted', 'Duplicate') AND billed_quantity_micros <> quantity_micros)
            ORDER BY hour_start DESC, id DESC LIMIT @limit
            """, new { limit }, cancellationToken: ct))];
    }

    /// <summary>Reported usage not yet folded into an hour (its hour is open, or the worker has not run since it closed).</summary>
    public async Task<IReadOnlyList<OpenUsage>> OpenUsageAsync(Guid? subscriptionId, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        // Two texts rather than "@id IS NULL OR …": PostgreSQL cannot type a parameter that is only ever compared with NULL.
        var filter = subscriptionId is null ? "" : "AND subscription_id = @subscriptionId";
        return [.. await connection.QueryAsync<OpenUsage>(new CommandDefinition($"""
            SELECT subscription_id, dimension, hour_start, COUNT(*) AS records, SUM(quantity_micros) AS quantity_micros
            FROM usage_records
            WHERE hour_id IS NULL {filter}
            GROUP BY subscription_id, dimension, hour_start
            ORDER BY hour_start, subscription_id, dimension
            LIMIT @limit
            """, new { subscriptionId, limit }, cancellationToken: ct))];
    }

    public async Task<IReadOnlyList<UsageHour>> HoursForSubscriptionAsync(
        Guid subscriptionId, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return [.. await connection.QueryAsync<UsageHour>(new CommandDefinition($"""
            SELECT {HourColumns} FROM usage_hours
            WHERE subscription_id = @subscriptionId AND hour_start >= @from AND hour_start < @to
            ORDER BY hour_start, dimension
            """, new { subscriptionId, from, to }, cancellationToken: ct))];
    }

    /// <summary>Billed hours answered in [from, to), streamed row by row for the finance export.</summary>
    public async IAsyncEnumerable<BilledUsageRow> BilledUsageAsync(
        DateTimeOffset from, DateTimeOffset to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = connection.QueryUnbufferedAsync<BilledUsageRow>("""
            SELECT h.subscription_id, s.offer_id, h.plan_id, h.dimension, h.hour_start, h.quantity_micros, h.billed_quantity_micros,
                   h.state, h.usage_event_id, h.submitted_at, h.answered_at
            FROM usage_hours h LEFT JOIN subscriptions s ON s.id = h.subscription_id
            WHERE h.state IN ('Accepted', 'Duplicate') AND h.answered_at >= @from AND h.answered_at < @to
            ORDER BY h.answered_at, h.id
            """, new { from, to });
        await foreach (var row in rows.WithCancellation(ct))
        {
            yield return row;
        }
    }
}
