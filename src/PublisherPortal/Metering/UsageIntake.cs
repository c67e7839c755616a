using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Metering;

/// <summary>The body of POST /api/usage. Every field is optional here so that a missing one gets a clear 400, not a 500.</summary>
public sealed record UsageReport
{
    [JsonPropertyName("subscriptionId")] public Guid? SubscriptionId { get; init; }
    [JsonPropertyName("dimension")] public string? Dimension { get; init; }
    [JsonPropertyName("quantity")] public decimal? Quantity { get; init; }

    /// <summary>ISO-8601; a time without an offset is taken as UTC.</summary>
    [JsonPropertyName("occurredAt")] public string? OccurredAt { get; init; }

    [JsonPropertyName("idempotencyKey")] public string? IdempotencyKey { get; init; }
}

/// <summary>The answer to an accepted report; the same bytes again for a repeated idempotency key.</summary>
public sealed record UsageReceipt(
    [property: JsonPropertyName("recordId")] long RecordId,
    [property: JsonPropertyName("subscriptionId")] Guid SubscriptionId,
    [property: JsonPropertyName("dimension")] string Dimension,
    [property: JsonPropertyName("quantity")] decimal Quantity,
    [property: JsonPropertyName("occurredAt")] DateTimeOffset OccurredAt,
    [property: JsonPropertyName("hour")] DateTimeOffset Hour,
    [property: JsonPropertyName("receivedAt")] DateTimeOffset ReceivedAt)
{
    public static UsageReceipt From(UsageRecord r) => new(
        r.Id, r.SubscriptionId, r.Dimension, UsageQuantity.FromMicros(r.QuantityMicros), r.OccurredAt, r.HourStart, r.ReceivedAt);
}

/// <summary>What became of a report: recorded now, recorded before (same key, same content), refused, or a key reused for other content.</summary>
public abstract record IntakeOutcome
{
    public sealed record Recorded(UsageReceipt Receipt) : IntakeOutcome;
    public sealed record AlreadyRecorded(UsageReceipt Receipt) : IntakeOutcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : IntakeOutcome;
    public sealed record KeyReused(UsageReceipt Original) : IntakeOutcome;
}

/// <summary>
/// Takes usage from the publisher's product: validates it, and records it durably before answering. The same
/// idempotency key from the same source always gets the first answer and changes nothing.
/// </summary>
public sealed partial class UsageIntake(
    UsageStore usage, SubscriptionStore subscriptions, MeteringPlans plans, TimeProvider time)
{
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>A product clock a little ahead is tolerated; further in the future is a bug worth hearing about.</summary>
    private static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Time the worker needs between an hour's close and the marketplace call: usage whose hour would be older than
    /// 24 hours by then cannot be billed, and the product is told so at once rather than us flagging it later.
    /// </summary>
    private static readonly TimeSpan SubmissionMargin = TimeSpan.FromMinutes(15);

    public async Task<IntakeOutcome> RecordAsync(string source, UsageReport report, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Error(string field, string message) => errors[field] = [message];

        var key = report.IdempotencyKey?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            Error("idempotencyKey", "Required: a key unique to this usage report, sent again unchanged when the report is retried.");
        }
        else if (key.Length > MaxIdempotencyKeyLength)
        {
            Error("idempotencyKey", $"At most {MaxIdempotencyKeyLength} characters.");
        }

        if (report.SubscriptionId is null || report.SubscriptionId == Guid.Empty)
        {
            Error("subscriptionId", "Required: the marketplace SaaS subscription id (a GUID).");
        }

        var dimension = report.Dimension?.Trim();
        if (string.IsNullOrEmpty(dimension))
        {
            Error("dimension", "Required: the metering dimension id of the plan, e.g. \"reports-generated\".");
        }
        else if (!DimensionPattern().IsMatch(dimension))
        {
            Error("dimension", "A dimension id is 1–64 letters, digits, '-', '_' or '.'.");
        }

        if (report.Quantity is not { } quantity)
        {
            Error("quantity", "Required: a number greater than 0.");
        }
        else if (quantity <= 0)
        {
            Error("quantity", "Must be greater than 0: the marketplace refuses zero or negative usage.");
        }
        else if (quantity > UsageQuantity.MaxPerReport)
        {
            Error("quantity", $"At most {UsageQuantity.MaxPerReport.ToString(CultureInfo.InvariantCulture)} per report.");
        }
        else if (!UsageQuantity.HasAtMostSixDecimals(quantity))
        {
            Error("quantity", "At most 6 decimal places.");
        }

        DateTimeOffset occurredAt = default;
        if (string.IsNullOrWhiteSpace(report.OccurredAt))
        {
            Error("occurredAt", "Required: when the usage happened, ISO-8601 in UTC (e.g. 2026-11-01T08:15:00Z).");
        }
        else if (!DateTimeOffset.TryParse(report.OccurredAt, CultureInfo.InvariantCulture,
                     DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out occurredAt))
        {
            Error("occurredAt", "Not an ISO-8601 date and time.");
        }
        else if (occurredAt > now + AllowedClockSkew)
        {
            Error("occurredAt", "Lies in the future.");
        }
        else if (UsageTime.HourOf(occurredAt) < now - UsageTime.MarketplaceWindow + SubmissionMargin)
        {
            Error("occurredAt", "Too old to bill: the marketplace accepts usage for the last 24 hours only.");
        }

        if (errors.Count > 0)
        {
            return new IntakeOutcome.Invalid(errors);
        }

        var subscriptionId = report.SubscriptionId!.Value;
        var subscription = await subscriptions.FindAsync(subscriptionId, ct);
        if (subscription is null)
        {
            Error("subscriptionId", $"Subscription {subscriptionId} is not known to this portal.");
            return new IntakeOutcome.Invalid(errors);
        }

        var plan = await plans.FindAsync(subscriptionId, subscription.OfferId, subscription.PlanId, ct);
        var dimensions = MeteringPlans.DimensionsOf(plan);
        // Checked only when the plan is known: an unreachable catalogue must not lose usage; the marketplace checks again.
        if (plan is not null && !dimensions.Any(d => string.Equals(d.Id, dimension, StringComparison.Ordinal)))
        {
            Error("dimension", dimensions.Count == 0
                ? $"Plan '{subscription.PlanId}' has no metering dimensions; its usage is not billed separately."
                : $"Plan '{subscription.PlanId}' has no dimension '{dimension}'. Known: {string.Join(", ", dimensions.Select(d => d.Id))}.");
            return new IntakeOutcome.Invalid(errors);
        }

        var micros = UsageQuantity.ToMicros(report.Quantity!.Value);
        var record = new UsageRecord
        {
            Source = source,
            IdempotencyKey = key!,
            RequestHash = HashOf(subscriptionId, dimension!, micros, occurredAt),
            SubscriptionId = subscriptionId,
            Dimension = dimension!,
            QuantityMicros = micros,
            OccurredAt = occurredAt,
            HourStart = UsageTime.HourOf(occurredAt),
            ReceivedAt = now,
        };

        var (stored, inserted) = await usage.RecordAsync(record, ct);
        var receipt = UsageReceipt.From(stored);
        if (inserted)
        {
            return new IntakeOutcome.Recorded(receipt);
        }

        // Same key, other content: a bug in the product (or two reports sharing a key). Never merged, never overwritten.
        return stored.RequestHash == record.RequestHash ? new IntakeOutcome.AlreadyRecorded(receipt) : new IntakeOutcome.KeyReused(receipt);
    }

    private static string HashOf(Guid subscriptionId, string dimension, long micros, DateTimeOffset occurredAt)
    {
        var canonical = string.Create(CultureInfo.InvariantCulture,
            $"{subscriptionId:D}|{dimension}|{micros}|{occurredAt.UtcTicks}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex DimensionPattern();
}
