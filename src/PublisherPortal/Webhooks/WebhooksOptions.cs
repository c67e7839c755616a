using System.ComponentModel.DataAnnotations;

namespace PublisherPortal.Webhooks;

/// <summary>
/// How the webhook inbox, the acknowledgement sender, the operation tracker and the reconciler behave. Bound from the
/// "Webhooks" section, next to the token validation settings (Instance, PublisherTenantId, AudienceClientId, MarketplaceAppId).
/// </summary>
public sealed class WebhooksOptions
{
    public const string Section = "Webhooks";

    /// <summary>A delivery is an operation and a subscription: far below this. Bigger bodies are refused before parsing.</summary>
    [Range(1024, 10 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Turn workers off on an instance that should only receive (or in tests that simulate a crash between steps).</summary>
    public bool RunProcessor { get; set; } = true;
    public bool RunAcknowledgementSender { get; set; } = true;
    public bool RunOperationTracker { get; set; } = true;
    public bool RunReconciler { get; set; } = true;

    /// <summary>Fallback wake-up of every worker when no signal came (another instance wrote the row, or a retry is due).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a claimed row stays with one instance before another may take it over (the holder died). It must
    /// outlast one marketplace call with all its retries (Marketplace:Timeout, 100 s by default): an acknowledgement
    /// PATCH still in flight when its lease ran out would be sent a second time by the instance that takes it over.
    /// Deliveries and operations are safe either way (their finish checks the lease under a row lock and rolls back).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    [Range(1, 1000)]
    public int BatchSize { get; set; } = 20;

    /// <summary>First retry delay of a delivery or an acknowledgement; doubled per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>After this many failed attempts a delivery or an acknowledgement is marked Failed for an operator to look at.</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 30;

    /// <summary>Our own operations: first poll delay grows from this (doubling, capped at <see cref="MaxOperationPollInterval"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan OperationPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxOperationPollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An operation of ours still running after this is marked TimedOut
    /// (docs/marketplace.md#polling-operations: "it can take minutes").</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the reconciler compares every subscription with the marketplace.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Refused deliveries (401/400) one source (remote address) may cause per <see cref="RejectedWindow"/>; past it the
    /// source gets 429 before its body is read, and nothing is stored. A genuine delivery never counts against it.
    /// </summary>
    [Range(1, 100_000)]
    public int RejectedPerSource { get; set; } = 20;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RejectedWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a refused delivery's record (headers, size, hash, first bytes) is kept.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan RejectedRetention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// How long accepted and duplicate deliveries are kept once processed (pending ones always stay). Subscription
    /// history is separate and never pruned. Zero keeps them for ever.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "36500.00:00:00")]
    public TimeSpan DeliveryRetention { get; set; } = TimeSpan.FromDays(365);

    /// <summary>How often the retention job runs (on one instance at a time).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "7.00:00:00")]
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    public bool RunRetention { get; set; } = true;

    /// <summary>The marketplace's 10 s to answer a ChangePlan/ChangeQuantity before the marketplace accepts by itself
    /// (docs/marketplace.md#answering-deliveries).</summary>
    public static readonly TimeSpan AcknowledgementDeadline = TimeSpan.FromSeconds(10);
}
