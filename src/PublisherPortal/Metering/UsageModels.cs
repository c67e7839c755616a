namespace PublisherPortal.Metering;

/// <summary>Where an hour of usage stands with the marketplace. Stored as text in usage_hours.state.</summary>
public static class UsageHourStates
{
    /// <summary>Closed and waiting to be sent.</summary>
    public const string Pending = nameof(Pending);

    /// <summary>Sent (or about to be) in the batch named by batch_id; its answer not yet recorded. Re-sent after a crash.</summary>
    public const string Submitting = nameof(Submitting);

    /// <summary>The marketplace accepted our event: billed.</summary>
    public const string Accepted = nameof(Accepted);

    /// <summary>The marketplace already held an event for the hour (our earlier attempt, normally): billed once.</summary>
    public const string Duplicate = nameof(Duplicate);

    /// <summary>Refused (ResourceNotActive, InvalidDimension, …): not billed; an operator may send it again.</summary>
    public const string Failed = nameof(Failed);

    /// <summary>Older than the marketplace's 24-hour window: can no longer be billed, kept for the record.</summary>
    public const string Expired = nameof(Expired);

    public static bool IsBilled(string state) => state is Accepted or Duplicate;
}

/// <summary>Quantities travel as decimals and are stored as whole millionths, so sums are exact on every database.</summary>
public static class UsageQuantity
{
    public const decimal MicrosPerUnit = 1_000_000m;

    /// <summary>The largest quantity one intake call may report.</summary>
    public const decimal MaxPerReport = 1_000_000_000m;

    public static long ToMicros(decimal quantity) => (long)(quantity * MicrosPerUnit);

    public static decimal FromMicros(long micros) => micros / MicrosPerUnit;

    public static bool HasAtMostSixDecimals(decimal quantity) => decimal.Truncate(quantity * MicrosPerUnit) == quantity * MicrosPerUnit;
}

public static class UsageTime
{
    /// <summary>The marketplace counts usage per hour: the hour an instant falls in, in UTC.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>The marketplace accepts usage whose hour started within the last 24 hours (docs/marketplace.md#metering).</summary>
    public static readonly TimeSpan MarketplaceWindow = TimeSpan.FromHours(24);
}

/// <summary>One row of usage_hours, as pages and the worker read it.</summary>
public sealed record UsageHour
{
    public long Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public string Dimension { get; init; } = "";
    public DateTimeOffset HourStart { get; init; }
    public long QuantityMicros { get; init; }
    public int RecordCount { get; init; }
    public long LateQuantityMicros { get; init; }
    public int LateRecordCount { get; init; }
    public string State { get; init; } = UsageHourStates.Pending;
    public string? ResultStatus { get; init; }
    public string? ResultDetail { get; init; }
    public string? PlanId { get; init; }
    public string? BatchId { get; init; }
    public string? UsageEventId { get; init; }
    public long? BilledQuantityMicros { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset? SubmittedAt { get; init; }
    public DateTimeOffset? AnsweredAt { get; init; }

    public decimal Quantity => UsageQuantity.FromMicros(QuantityMicros);
    public decimal LateQuantity => UsageQuantity.FromMicros(LateQuantityMicros);
    public decimal? BilledQuantity => BilledQuantityMicros is { } b ? UsageQuantity.FromMicros(b) : null;

    /// <summary>The marketplace bills a different amount for the hour than we recorded (an earlier event won the hour).</summary>
    public bool BilledDiffers => UsageHourStates.IsBilled(State) && BilledQuantityMicros is { } b && b != QuantityMicros;

    /// <summary>Something an operator must look at: not billed, partly not billed, or billed differently.</summary>
    public bool NeedsAttention => State is UsageHourStates.Failed or UsageHourStates.Expired || LateQuantityMicros > 0 || BilledDiffers;
}
