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

/// <summary>The body of POST /api/usage/batch.</summary>
public sealed record UsageBatch
{
    [JsonPropertyName("reports")] public List<UsageReport?>? Reports { get; init; }
}

/// <summary>The answer to a batch: counts by status, then one line per report in the order sent.</summary>
public sealed record UsageBatchAnswer(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("recorded")] int Recorded,
    [property: JsonPropertyName("alreadyRecorded")] int AlreadyRecorded,
    [property: JsonPropertyName("refused")] int Refused,
    [property: JsonPropertyName("results")] IReadOnlyList<UsageBatchLine> Results)
{
    public static UsageBatchAnswer From(IReadOnlyList<IntakeOutcome> outcomes)
    {
        var lines = outcomes.Select(UsageBatchLine.From).ToList();
        return new(lines.Count,
            lines.Count(l => l.Status == nameof(IntakeOutcome.Recorded)),
            lines.Count(l => l.Status == nameof(IntakeOutcome.AlreadyRecorded)),
            lines.Count(l => l.Status is nameof(IntakeOutcome.Invalid) or nameof(IntakeOutcome.KeyReused)),
            lines);
    }
}

/// <summary>
/// One report's result: Recorded or AlreadyRecorded with its receipt; Invalid with errors by field; KeyReused with the
/// receipt of the usage the key recorded first.
/// </summary>
public sealed record UsageBatchLine(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("receipt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] UsageReceipt? Receipt,
    [property: JsonPropertyName("errors"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IDictionary<string, string[]>? Errors)
{
    public static UsageBatchLine From(IntakeOutcome outcome, int index) => outcome switch
    {
        IntakeOutcome.Recorded r => new(index, nameof(IntakeOutcome.Recorded), r.Receipt, null),
        IntakeOutcome.AlreadyRecorded r => new(index, nameof(IntakeOutcome.AlreadyRecorded), r.Receipt, null),
        IntakeOutcome.Invalid i => new(index, nameof(IntakeOutcome.Invalid), null, i.Errors),
        IntakeOutcome.KeyReused k => new(index, nameof(IntakeOutcome.KeyReused), k.Original, new Dictionary<string, string[]>
        {
            ["idempotencyKey"] = [$"Already recorded usage {k.Original.RecordId} with other content; nothing was changed. Use a new key for new usage."],
        }),
        _ => throw new InvalidOperationException("Unknown intake outcome."),
    };
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

    /// <summary>The most reports one batch may carry: enough to amortise a commit, small enough to answer within a request timeout.</summary>
    public const int MaxBatchSize = 500;

    public async Task<IntakeOutcome> RecordAsync(string source, UsageReport report, CancellationToken ct = default) =>
        (await RecordBatchAsync(source, [report], ct))[0];

    /// <summary>
    /// Records every valid report of a batch in one transaction and answers each on its own, in order: one report's
    /// error never refuses its neighbours, and a batch sent again changes nothing (each report keeps its key).
    /// </summary>
    public async Task<IReadOnlyList<IntakeOutcome>> RecordBatchAsync(string source, IReadOnlyList<UsageReport> reports, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        var now = time.GetUtcNow();
        var outcomes = new IntakeOutcome[reports.Count];
        var valid = new (UsageRecord? Record, Dictionary<string, string[]> Errors)[reports.Count];
        for (var i = 0; i < reports.Count; i++)
        {
            valid[i] = Validate(source, reports[i], now);
        }

        var checks = await PlanChecksAsync(valid.Where(v => v.Record is not null).Select(v => v.Record!.SubscriptionId).ToHashSet(), ct);
        var accepted = new List<(int Index, UsageRecord Record)>(reports.Count);
        for (var i = 0; i < reports.Count; i++)
        {
            var (record, errors) = valid[i];
            if (record is not null && checks[record.SubscriptionId].ProblemWith(record) is { } problem)
            {
                errors[problem.Field] = [problem.Message];
                record = null;
            }

            if (record is null)
            {
                outcomes[i] = new IntakeOutcome.Invalid(errors);
            }
            else
            {
                accepted.Add((i, record));
            }
        }

        var stored = await usage.RecordAllAsync(accepted.ConvertAll(a => a.Record), ct);
        for (var j = 0; j < accepted.Count; j++)
        {
            var (index, record) = accepted[j];
            var (kept, inserted) = stored[j];
            var receipt = UsageReceipt.From(kept);
            // Same key, other content: a bug in the product (or two reports sharing a key). Never merged, never overwritten.
            outcomes[index] = inserted ? new IntakeOutcome.Recorded(receipt)
                : kept.RequestHash == record.RequestHash ? new IntakeOutcome.AlreadyRecorded(receipt)
                : new IntakeOutcome.KeyReused(receipt);
        }

        return outcomes;
    }

    /// <summary>Checks what needs no database; returns the record to store, or the errors by field.</summary>
    private static (UsageRecord? Record, Dictionary<string, string[]> Errors) Validate(string source, UsageReport report, DateTimeOffset now)
    {
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
        else if (key.Any(char.IsControl))
        {
            // PostgreSQL refuses a NUL in text, which would fail the whole batch's transaction, not just this report.
            Error("idempotencyKey", "Control characters are not allowed in a key.");
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
            return (null, errors);
        }

        var subscriptionId = report.SubscriptionId!.Value;
        var micros = UsageQuantity.ToMicros(report.Quantity!.Value);
        return (new UsageRecord
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
        }, errors);
    }

    /// <summary>Read once per subscription and batch: whether it is known, and which dimensions its plan meters.</summary>
    private async Task<Dictionary<Guid, PlanCheck>> PlanChecksAsync(IReadOnlyCollection<Guid> subscriptionIds, CancellationToken ct)
    {
        var known = await subscriptions.PlansOfAsync(subscriptionIds, ct);
        var checks = new Dictionary<Guid, PlanCheck>(subscriptionIds.Count);
        foreach (var id in subscriptionIds)
        {
            if (!known.TryGetValue(id, out var subscription))
            {
                checks[id] = new PlanCheck(id, Known: false, null, null);
                continue;
            }

            var plan = await plans.FindAsync(id, subscription.OfferId, subscription.PlanId, ct);
            // Null when the plan is unknown: an unreachable catalogue must not lose usage; the marketplace checks again.
            checks[id] = new PlanCheck(id, Known: true, subscription.PlanId, plan is null ? null : MeteringPlans.DimensionsOf(plan));
        }

        return checks;
    }

    private sealed record PlanCheck(Guid SubscriptionId, bool Known, string? PlanId, IReadOnlyList<MeteringDimension>? Dimensions)
    {
        public (string Field, string Message)? ProblemWith(UsageRecord record)
        {
            if (!Known)
            {
                return ("subscriptionId", $"Subscription {SubscriptionId} is not known to this portal.");
            }

            if (Dimensions is null || Dimensions.Any(d => string.Equals(d.Id, record.Dimension, StringComparison.Ordinal)))
            {
                return null;
            }

            return ("dimension", Dimensions.Count == 0
                ? $"Plan '{PlanId}' has no metering dimensions; its usage is not billed separately."
                : $"Plan '{PlanId}' has no dimension '{record.Dimension}'. Known: {string.Join(", ", Dimensions.Select(d => d.Id))}.");
        }
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
