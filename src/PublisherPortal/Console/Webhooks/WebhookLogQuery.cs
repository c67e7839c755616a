using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Console;

/// <summary>One webhook delivery as the log shows it; the body is read only when someone opens it.</summary>
public sealed record WebhookDeliveryRow
{
    public long Id { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public Guid? OperationId { get; init; }
    public Guid? SubscriptionId { get; init; }
    public string? Action { get; init; }
    public DateTimeOffset? OperationTimeStamp { get; init; }
    public string Result { get; init; } = "";
    public string? RejectReason { get; init; }
    public bool IsTest { get; init; }
    public string? ProcessingState { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? ProcessedAt { get; init; }
    public string? ProcessDetail { get; init; }

    public bool CanProcessAgain => Result == DeliveryResults.Accepted && ProcessingState == ProcessingStates.Failed;
}

public sealed record WebhookLogFilter
{
    public string? Result { get; init; }
    public string? Action { get; init; }
    public Guid? SubscriptionId { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
}

public sealed record WebhookLogPage(IReadOnlyList<WebhookDeliveryRow> Rows, int TotalCount);

/// <summary>The stored payload and headers of one delivery, with anything secret blanked out.</summary>
public sealed record WebhookPayload(long Id, string Body, string Headers);

/// <summary>
/// Reads the webhook inbox (written by the Webhooks feature) as a log: newest first, one page at a time.
/// Every filter has an index: result and action (0002_console_indexes), subscription and time (0001).
/// </summary>
public sealed class WebhookLogQuery(PortalDatabase database)
{
    private const string RowColumns = """
        SELECT id, received_at, operation_id, subscription_id, action, operation_time_stamp, result, reject_reason,
               is_test, processing_state, attempts, next_attempt_at, processed_at, process_detail
        FROM webhook_deliveries
        """;

    // Neither the portal nor a screen needs these values, and a purchase token or bearer token shown is one leaked.
    private static readonly string[] SecretNames = ["authorization", "purchaseToken", "x-ms-marketplace-token", "token", "access_token"];

    public async Task<WebhookLogPage> PageAsync(WebhookLogFilter filter, int skip, int take, CancellationToken ct = default)
    {
        var (countSql, pageSql, args) = Commands(filter, skip, take);
        await using var connection = await database.OpenAsync(ct);
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(countSql, args, cancellationToken: ct));
        var rows = await connection.QueryAsync<WebhookDeliveryRow>(new CommandDefinition(pageSql, args, cancellationToken: ct));
        return new WebhookLogPage(rows.AsList(), total);
    }

    /// <summary>
    /// The count and page statements for a filter. Each filter leads an index whose next column is received_at
    /// (result, action, subscription) or is received_at itself, so a time window narrows the same index range
    /// instead of filtering rows one by one; tests check the plan.
    /// </summary>
    internal static (string CountSql, string PageSql, DynamicParameters Args) Commands(WebhookLogFilter filter, int skip, int take)
    {
        var conditions = new List<string>();
        var args = new DynamicParameters();
        if (filter.Result is { Length: > 0 } result)
        {
            conditions.Add("result = @result");
            args.Add("result", result);
        }

        if (filter.Action is { Length: > 0 } action)
        {
            conditions.Add("action = @action");
            args.Add("action", action);
        }

        if (filter.SubscriptionId is { } subscriptionId)
        {
            conditions.Add("subscription_id = @subscriptionId");
            args.Add("subscriptionId", subscriptionId.ToString("D"));
        }

        // From inclusive, To exclusive: consecutive windows never count a delivery twice.
        if (filter.From is { } from)
        {
            conditions.Add("received_at >= @from");
            args.Add("from", from);
        }

        if (filter.To is { } to)
        {
            conditions.Add("received_at < @to");
            args.Add("to", to);
        }

        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        args.Add("take", Math.Clamp(take, 1, 200));
        args.Add("skip", Math.Max(0, skip));
        return ("SELECT COUNT(*) FROM webhook_deliveries" + where,
            $"{RowColumns}{where} ORDER BY received_at DESC, id DESC LIMIT @take OFFSET @skip",
            args);
    }

    public async Task<IReadOnlyList<WebhookDeliveryRow>> ForSubscriptionAsync(Guid subscriptionId, int take, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<WebhookDeliveryRow>(new CommandDefinition(
            RowColumns + " WHERE subscription_id = @subscriptionId ORDER BY received_at DESC, id DESC LIMIT @take",
            new { subscriptionId = subscriptionId.ToString("D"), take }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>The actions seen so far, for the filter list.</summary>
    public async Task<IReadOnlyList<string>> ActionsSeenAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT DISTINCT action FROM webhook_deliveries WHERE action IS NOT NULL ORDER BY action", cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<WebhookPayload?> PayloadAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(long Id, string Body, string Headers)?>(new CommandDefinition(
            "SELECT id, body, headers FROM webhook_deliveries WHERE id = @id", new { id }, cancellationToken: ct));
        return row is { } r ? new WebhookPayload(r.Id, Redact(r.Body), Redact(r.Headers)) : null;
    }

    /// <summary>Pretty-prints JSON and blanks secret values; text that is not JSON is shown as stored (it was rejected as such).</summary>
    public static string Redact(string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return text;
        }

        if (node is null)
        {
            return text;
        }

        RedactNode(node);
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static void RedactNode(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (SecretNames.Contains(name, StringComparer.OrdinalIgnoreCase) && value is not null)
                    {
                        obj[name] = "(hidden)";
                    }
                    else if (value is not null)
                    {
                        RedactNode(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        RedactNode(item);
                    }
                }

                break;
        }
    }
}
