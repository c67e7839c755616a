using System.Diagnostics;
using System.Net.Mime;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;
using StandardWebhooks;

namespace PublisherPortal.Entitlements;

public sealed class EntitlementEventOptions
{
    public const string Section = "Entitlements:Events";

    public bool RunSender { get; set; } = true;
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an event is retried before it is dead-lettered.</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromDays(3);

    public int BatchSize { get; set; } = 50;
}

/// <summary>
/// Sends due entitlement deliveries, signed per Standard Webhooks (https://www.standardwebhooks.com/), with every active
/// secret of the endpoint. Rows are claimed under a lease, so any number of instances share the work and none sends a
/// row another holds; per endpoint and subscription only the oldest undelivered row is due, so the product sees the
/// changes of one subscription in the order they were made. At least once: a receiver that answered but whose answer was
/// not recorded (the instance died) gets the same webhook-id again, which Standard Webhooks receivers de-duplicate.
/// </summary>
public sealed partial class EntitlementEventSender(
    PortalDatabase database,
    IHttpClientFactory http,
    WorkerIdentity worker,
    IOptions<EntitlementEventOptions> options,
    TimeProvider time,
    ILogger<EntitlementEventSender> logger) : BackgroundService
{
    public const string HttpClientName = "entitlement-events";

    private readonly WorkSignal _signal = new();

    private EntitlementEventOptions Settings => options.Value;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Settings.RunSender
        ? _signal.RunRoundsAsync(SendDueAsync, e => Log.RoundFailed(logger, e), Settings.PollInterval, time, stoppingToken)
        : Task.CompletedTask;

    /// <summary>One round: claims due deliveries, sends each, records the answer. Returns how many were attempted.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var claimed = await ClaimDueAsync(now, now + Settings.LeaseDuration, ct);
        using var client = http.CreateClient(HttpClientName);
        client.Timeout = Settings.RequestTimeout;
        foreach (var delivery in claimed)
        {
            await SendOneAsync(client, delivery, ct);
        }

        return claimed.Count;
    }

    private async Task<IReadOnlyList<ClaimedDelivery>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        // Due: waiting and its time has come, or held by an instance whose lease ran out. And no older delivery of the
        // same subscription to the same endpoint still on its way: order comes before speed.
        var due = $"""
            SELECT d.id FROM entitlement_deliveries d
            WHERE ((d.state = @pending AND d.next_attempt_at <= @now) OR (d.state = @sending AND d.lease_until < @now))
              AND NOT EXISTS (SELECT 1 FROM entitlement_deliveries o
                              WHERE o.endpoint_id = d.endpoint_id AND o.subscription_id = d.subscription_id
                                AND o.id < d.id AND o.state IN (@pending, @sending))
            ORDER BY d.id LIMIT @batchSize{database.Sql(sqlite: "", postgres: " FOR UPDATE SKIP LOCKED")}
            """;
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var ids = (await connection.QueryAsync<long>(new CommandDefinition($"""
            UPDATE entitlement_deliveries SET state = @sending, lease_owner = @owner, lease_until = @leaseUntil
            WHERE id IN ({due})
            RETURNING id
            """,
            new { owner = worker.Id, now, leaseUntil, batchSize = Settings.BatchSize, pending = DeliveryStates.Pending, sending = DeliveryStates.Sending },
            tx, cancellationToken: ct))).ToArray();
        var rows = ids.Length == 0 ? [] : await connection.QueryAsync<ClaimedDelivery>(new CommandDefinition(database.Sql(
                sqlite: ClaimedSelect + " WHERE d.id IN @ids ORDER BY d.id",
                postgres: ClaimedSelect + " WHERE d.id = ANY(@ids) ORDER BY d.id"),
            new { ids }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return [.. rows];
    }

    private const string ClaimedSelect = """
        SELECT d.id, d.event_id, d.attempts, d.created_at, e.payload, n.url, n.secret, n.previous_secret, n.previous_secret_until
        FROM entitlement_deliveries d
        JOIN entitlement_events e ON e.id = d.event_id
        JOIN entitlement_endpoints n ON n.id = d.endpoint_id
        """;

    private async Task SendOneAsync(HttpClient client, ClaimedDelivery d, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var webhookId = "ent_" + d.EventId;
        var endpoint = new EntitlementEndpoint { Secret = d.Secret, PreviousSecret = d.PreviousSecret, PreviousSecretUntil = d.PreviousSecretUntil };
        var signatures = string.Join(' ', endpoint.ActiveSecrets(now).Select(s => new StandardWebhook(s).Sign(webhookId, now, d.Payload)));

        using var request = new HttpRequestMessage(HttpMethod.Post, d.Url)
        {
            Content = new StringContent(d.Payload, Encoding.UTF8, "application/cloudevents+json"),
        };
        // Sent as written: validated adding would read the signature's commas as a list and re-join it with ", ".
        request.Headers.TryAddWithoutValidation("webhook-id", webhookId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", signatures);

        var started = Stopwatch.GetTimestamp();
        int? status = null;
        string? error;
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            // Only a 2xx is a delivery: a redirect is not followed (the endpoint the Admin configured is where events go).
            error = response.IsSuccessStatusCode ? null : $"answered {status}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            error = ex is TaskCanceledException ? "no answer within " + Settings.RequestTimeout : ex.Message;
        }

        var latency = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await using var connection = await database.OpenAsync(ct);
        if (error is null)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE entitlement_deliveries
                SET state = @delivered, attempts = attempts + 1, delivered_at = @now, last_status = @status, last_error = NULL,
                    last_latency_ms = @latency, lease_owner = NULL, lease_until = NULL
                WHERE id = @id AND lease_owner = @owner
                """, new { id = d.Id, owner = worker.Id, now, status, latency, delivered = DeliveryStates.Delivered }, cancellationToken: ct));
            return;
        }

        var attempt = d.Attempts + 1;
        var next = now + Backoff.For(attempt, Settings.RetryBaseDelay, Settings.MaxRetryDelay);
        var giveUp = next - d.CreatedAt > Settings.RetryWindow;
        Log.Failed(logger, d.Id, d.EventId, attempt, error, giveUp);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE entitlement_deliveries
            SET state = @state, attempts = attempts + 1, next_attempt_at = @next, last_status = @status, last_error = @error,
                last_latency_ms = @latency, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner
            """,
            new { id = d.Id, owner = worker.Id, next, status, error, latency, state = giveUp ? DeliveryStates.DeadLettered : DeliveryStates.Pending },
            cancellationToken: ct));
    }

    /// <summary>Wakes the sender now rather than at its next poll (a change was committed).</summary>
    public void Notify() => _signal.Notify();

    private sealed record ClaimedDelivery
    {
        public long Id { get; init; }
        public long EventId { get; init; }
        public int Attempts { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public string Payload { get; init; } = "";
        public string Url { get; init; } = "";
        public string Secret { get; init; } = "";
        public string? PreviousSecret { get; init; }
        public DateTimeOffset? PreviousSecretUntil { get; init; }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Entitlement delivery {DeliveryId} (event {EventId}) attempt {Attempt} failed: {Error}; dead-lettered: {DeadLettered}")]
        public static partial void Failed(ILogger logger, long deliveryId, long eventId, int attempt, string error, bool deadLettered);

        [LoggerMessage(Level = LogLevel.Error, Message = "An entitlement delivery round failed; the next round retries.")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
