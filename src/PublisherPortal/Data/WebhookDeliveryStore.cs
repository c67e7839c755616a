using System.Data.Common;
using Dapper;

namespace PublisherPortal.Data;

/// <summary>One webhook delivery as stored: the inbox entry of an accepted one, or the log line of a refused one.</summary>
public sealed record WebhookDeliveryRecord
{
    public long Id { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public Guid? OperationId { get; init; }
    public Guid? SubscriptionId { get; init; }
    public string? Action { get; init; }
    public DateTimeOffset? OperationTimeStamp { get; init; }
    public string Body { get; init; } = "";
    public string Headers { get; init; } = "";
    public string Result { get; init; } = "";
    public string? RejectReason { get; init; }
    public bool IsTest { get; init; }
    public string? ProcessingState { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? ProcessedAt { get; init; }
    public string? ProcessDetail { get; init; }

    /// <summary>A refused delivery's size in bytes (its body column then holds only the first bytes).</summary>
    public long? BodyBytes { get; init; }

    /// <summary>A refused delivery's SHA-256, hex: the same junk sent twice shows as the same hash.</summary>
    public string? BodySha256 { get; init; }

    /// <summary>The W3C traceparent of the request that stored it: the processor continues that trace.</summary>
    public string? TraceParent { get; init; }
}

/// <summary>What the endpoint made of a delivery (the webhook_deliveries.result column).</summary>
public static class DeliveryResults
{
    public const string Accepted = "Accepted";
    public const string Duplicate = "Duplicate";
    public const string Unauthorized = "Unauthorized";
    public const string Malformed = "Malformed";
}

/// <summary>Where an accepted delivery stands in the processor (the webhook_deliveries.processing_state column).</summary>
public static class ProcessingStates
{
    public const string Pending = "Pending";
    public const string Applied = "Applied";
    public const string Stale = "Stale";
    public const string Ignored = "Ignored";
    public const string Failed = "Failed";
}

/// <summary>What is kept of a refused delivery's body: its size, its SHA-256 (hex) and its first characters.</summary>
public sealed record BodyDigest(long Bytes, string Sha256, string Prefix)
{
    /// <summary>Enough to recognise a payload and see what it claimed to be; small enough that junk cannot fill a disk.</summary>
    public const int PrefixLength = 512;

    public static BodyDigest Of(string body)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        return new BodyDigest(bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
            body.Length <= PrefixLength ? body : body[..PrefixLength]);
    }
}

/// <summary>The inbox written by the webhook endpoint and drained by the processor.</summary>
public sealed record NewDelivery(
    DateTimeOffset ReceivedAt,
    Guid? OperationId,
    Guid? SubscriptionId,
    string? Action,
    DateTimeOffset? OperationTimeStamp,
    string Body,
    string Headers,
    bool IsTest)
{
    /// <summary>The span the delivery arrived in (null when nothing is traced), stored for the processor.</summary>
    public string? TraceParent { get; init; }
}

/// <summary>
/// The webhook_deliveries table: inbox and log in one. Accepted deliveries are unique per operation id
/// (ux_deliveries_operation), which is what makes a repeated delivery harmless.
/// </summary>
public sealed class WebhookDeliveryStore(PortalDatabase database)
{
    private const string SelectColumns = """
        SELECT id, received_at, operation_id, subscription_id, action, operation_time_stamp, body, headers, result,
               reject_reason, is_test, processing_state, attempts, next_attempt_at, processed_at, process_detail,
               body_bytes, body_sha256
        FROM webhook_deliveries
        """;

    /// <summary>
    /// Stores a valid delivery as the inbox entry of its operation, or — when one exists already — as a Duplicate
    /// log line. Returns the result and the row id. Runs in the caller's transaction.
    /// </summary>
    public async Task<(string Result, long Id)> InsertAcceptedOrDuplicateAsync(
        NewDelivery delivery, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        var args = new
        {
            delivery.ReceivedAt,
            delivery.OperationId,
            delivery.SubscriptionId,
            delivery.Action,
            delivery.OperationTimeStamp,
            delivery.Body,
            delivery.Headers,
            delivery.IsTest,
            delivery.TraceParent,
            accepted = DeliveryResults.Accepted,
            duplicate = DeliveryResults.Duplicate,
            pending = ProcessingStates.Pending,
        };

        // The partial unique index on accepted rows decides, so two instances receiving the same delivery at once
        // cannot both accept it.
        var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
            INSERT INTO webhook_deliveries (received_at, operation_id, subscription_id, action, operation_time_stamp,
                                            body, headers, result, is_test, processing_state, next_attempt_at, trace_parent)
            VALUES (@ReceivedAt, @OperationId, @SubscriptionId, @Action, @OperationTimeStamp,
                    @Body, @Headers, @accepted, @IsTest, @pending, @ReceivedAt, @TraceParent)
            ON CONFLICT DO NOTHING
            RETURNING id
            """, args, tx, cancellationToken: ct));
        if (id is { } acceptedId)
        {
            return (DeliveryResults.Accepted, acceptedId);
        }

        var duplicateId = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO webhook_deliveries (received_at, operation_id, subscription_id, action, operation_time_stamp,
                                            body, headers, result, is_test)
            VALUES (@ReceivedAt, @OperationId, @SubscriptionId, @Action, @OperationTimeStamp,
                    @Body, @Headers, @duplicate, @IsTest)
            RETURNING id
            """, args, tx, cancellationToken: ct));
        return (DeliveryResults.Duplicate, duplicateId);
    }

    /// <summary>
    /// Logs a refused delivery (Unauthorized or Malformed) with its reason. It is never processed, and anyone can send
    /// one, so only <paramref name="digest"/> of its body is kept: size, SHA-256 and the first bytes.
    /// </summary>
    public async Task<long> RecordRejectedAsync(NewDelivery delivery, string result, string reason, BodyDigest digest, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO webhook_deliveries (received_at, operation_id, subscription_id, action, operation_time_stamp,
                                            body, headers, result, reject_reason, is_test, body_bytes, body_sha256)
            VALUES (@ReceivedAt, @OperationId, @SubscriptionId, @Action, @OperationTimeStamp,
                    @prefix, @Headers, @result, @reason, @IsTest, @bytes, @sha256)
            RETURNING id
            """, new
        {
            delivery.ReceivedAt,
            delivery.OperationId,
            delivery.SubscriptionId,
            delivery.Action,
            delivery.OperationTimeStamp,
            prefix = digest.Prefix,
            delivery.Headers,
            delivery.IsTest,
            result,
            reason,
            bytes = digest.Bytes,
            sha256 = digest.Sha256,
        }, cancellationToken: ct));
    }

    /// <summary>
    /// Deletes, a batch at a time, refused deliveries received before <paramref name="rejectedBefore"/> and processed
    /// accepted or duplicate ones received before <paramref name="deliveredBefore"/> (null: kept for ever). Pending
    /// deliveries always stay. Returns how many rows went.
    /// </summary>
    public async Task<int> PruneAsync(DateTimeOffset rejectedBefore, DateTimeOffset? deliveredBefore, int batchSize, CancellationToken ct = default)
    {
        var pruned = 0;
        int batch;
        do
        {
            await using var connection = await database.OpenAsync(ct);
            batch = await connection.ExecuteAsync(new CommandDefinition("""
                DELETE FROM webhook_deliveries
                WHERE id IN (SELECT id FROM webhook_deliveries
                             WHERE received_at < @rejectedBefore AND result IN (@unauthorized, @malformed)
                             ORDER BY received_at, id LIMIT @batchSize)
                """, new
            {
                rejectedBefore, batchSize, unauthorized = DeliveryResults.Unauthorized, malformed = DeliveryResults.Malformed,
            }, cancellationToken: ct));
            if (deliveredBefore is { } before)
            {
                batch += await connection.ExecuteAsync(new CommandDefinition("""
                    DELETE FROM webhook_deliveries
                    WHERE id IN (SELECT id FROM webhook_deliveries
                                 WHERE received_at < @before AND result IN (@accepted, @duplicate)
                                   AND (processing_state IS NULL OR processing_state <> @pending)
                                 ORDER BY received_at, id LIMIT @batchSize)
                    """, new
                {
                    before, batchSize, accepted = DeliveryResults.Accepted, duplicate = DeliveryResults.Duplicate,
                    pending = ProcessingStates.Pending,
                }, cancellationToken: ct));
            }

            pruned += batch;
        }
        while (batch > 0);
        return pruned;
    }

    /// <summary>
    /// Leases up to <paramref name="batchSize"/> due Pending deliveries to <paramref name="owner"/> until <paramref name="leaseUntil"/>,
    /// oldest marketplace timeStamp first. A lease that ran out (its instance died) is taken over.
    /// </summary>
    public async Task<IReadOnlyList<WebhookDeliveryRecord>> ClaimDueAsync(
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int batchSize, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        // A lease still set but run out means its instance died or stalled mid-item: counted as a take-over.
        var takenOver = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM webhook_deliveries
            WHERE processing_state = @pending AND next_attempt_at <= @now AND lease_until < @now
            """, new { now, pending = ProcessingStates.Pending }, tx, cancellationToken: ct));
        if (takenOver > 0)
        {
            Observability.PortalTelemetry.WorkerTelemetry.LeaseTakeovers.Add(Math.Min(takenOver, batchSize), new KeyValuePair<string, object?>("queue", "inbox"));
        }

        var rows = await connection.QueryAsync<WebhookDeliveryRecord>(new CommandDefinition(database.Sql(
            sqlite: """
                UPDATE webhook_deliveries SET lease_owner = @owner, lease_until = @leaseUntil
                WHERE id IN (SELECT id FROM webhook_deliveries
                             WHERE processing_state = @pending AND next_attempt_at <= @now
                               AND (lease_until IS NULL OR lease_until < @now)
                             ORDER BY operation_time_stamp, id LIMIT @batchSize)
                RETURNING id, received_at, operation_id, subscription_id, action, operation_time_stamp, body, headers, result,
                          reject_reason, is_test, processing_state, attempts, next_attempt_at, processed_at, process_detail, trace_parent
                """,
            postgres: """
                UPDATE webhook_deliveries SET lease_owner = @owner, lease_until = @leaseUntil
                WHERE id IN (SELECT id FROM webhook_deliveries
                             WHERE processing_state = @pending AND next_attempt_at <= @now
                               AND (lease_until IS NULL OR lease_until < @now)
                             ORDER BY operation_time_stamp, id LIMIT @batchSize
                             FOR UPDATE SKIP LOCKED)
                RETURNING id, received_at, operation_id, subscription_id, action, operation_time_stamp, body, headers, result,
                          reject_reason, is_test, processing_state, attempts, next_attempt_at, processed_at, process_detail, trace_parent
                """),
            new { owner, leaseUntil, now, batchSize, pending = ProcessingStates.Pending }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return [.. rows.OrderBy(r => r.OperationTimeStamp).ThenBy(r => r.Id)];
    }

    /// <summary>
    /// Confirms, inside the caller's transaction, that this owner still holds the delivery and it is still Pending, and
    /// takes the row lock for the rest of the transaction: two instances can never both apply one delivery.
    /// </summary>
    public async Task<bool> TryHoldAsync(long id, string owner, DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_deliveries SET lease_owner = lease_owner
            WHERE id = @id AND lease_owner = @owner AND processing_state = @pending
            """, new { id, owner, pending = ProcessingStates.Pending }, tx, cancellationToken: ct)) == 1;

    /// <summary>
    /// Ends processing of a delivery this owner holds. Returns false when the lease was lost (another instance took
    /// over): the caller must then roll back everything it did in <paramref name="tx"/>. Run it first in the
    /// transaction, so the row lock serialises two instances racing for the same delivery.
    /// </summary>
    public async Task<bool> TryFinishAsync(long id, string owner, string state, string detail, DateTimeOffset now,
        DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_deliveries
            SET processing_state = @state, process_detail = @detail, processed_at = @now, attempts = attempts + 1,
                lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND processing_state = @pending
            """, new { id, owner, state, detail, now, pending = ProcessingStates.Pending }, tx, cancellationToken: ct)) == 1;

    /// <summary>Ends processing in a transaction of its own (Ignored or Failed deliveries, which change nothing else).</summary>
    public async Task<bool> TryFinishAsync(long id, string owner, string state, string detail, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var finished = await TryFinishAsync(id, owner, state, detail, now, connection, tx, ct);
        await tx.CommitAsync(ct);
        return finished;
    }

    /// <summary>Gives the delivery back for a later attempt. <paramref name="countAttempt"/> is false when it only waits its turn.</summary>
    public async Task RescheduleAsync(long id, string owner, DateTimeOffset nextAttemptAt, string detail, bool countAttempt, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_deliveries
            SET next_attempt_at = @nextAttemptAt, process_detail = @detail,
                attempts = attempts + @increment, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND processing_state = @pending
            """, new { id, owner, nextAttemptAt, detail, increment = countAttempt ? 1 : 0, pending = ProcessingStates.Pending },
            cancellationToken: ct));
    }

    /// <summary>
    /// An accepted delivery of the same subscription with an older timeStamp that is still waiting: deliveries of one
    /// subscription are applied in timeStamp order, so this one waits for it.
    /// </summary>
    public async Task<WebhookDeliveryRecord?> FindEarlierPendingAsync(Guid subscriptionId, DateTimeOffset timeStamp, long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<WebhookDeliveryRecord>(new CommandDefinition(SelectColumns + """
             WHERE subscription_id = @subscriptionId AND processing_state = @pending AND id <> @id
               AND operation_time_stamp < @timeStamp
             ORDER BY operation_time_stamp, id
            """, new { subscriptionId, timeStamp, id, pending = ProcessingStates.Pending }, cancellationToken: ct));
    }

    public async Task<bool> HasPendingForAsync(Guid subscriptionId, DbConnection connection, DbTransaction? tx, CancellationToken ct = default) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM webhook_deliveries WHERE subscription_id = @subscriptionId AND processing_state = @pending
            """, new { subscriptionId, pending = ProcessingStates.Pending }, tx, cancellationToken: ct)) > 0;

    public async Task<WebhookDeliveryRecord?> FindAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<WebhookDeliveryRecord>(
            new CommandDefinition(SelectColumns + " WHERE id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>Every stored delivery of one operation (accepted, duplicates), oldest first.</summary>
    public async Task<IReadOnlyList<WebhookDeliveryRecord>> ForOperationAsync(Guid operationId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<WebhookDeliveryRecord>(new CommandDefinition(
            SelectColumns + " WHERE operation_id = @operationId ORDER BY received_at, id", new { operationId }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// The webhook log, newest first, a page at a time by key: pass the last row's (received_at, id) to get the next page.
    /// </summary>
    public async Task<IReadOnlyList<WebhookDeliveryRecord>> ListAsync(
        DateTimeOffset? beforeReceivedAt, long? beforeId, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = beforeReceivedAt is { } at && beforeId is { } id
            ? await connection.QueryAsync<WebhookDeliveryRecord>(new CommandDefinition(SelectColumns + """
                 WHERE received_at < @at OR (received_at = @at AND id < @id)
                 ORDER BY received_at DESC, id DESC LIMIT @limit
                """, new { at, id, limit }, cancellationToken: ct))
            : await connection.QueryAsync<WebhookDeliveryRecord>(new CommandDefinition(
                SelectColumns + " ORDER BY received_at DESC, id DESC LIMIT @limit", new { limit }, cancellationToken: ct));
        return rows.AsList();
    }
}
