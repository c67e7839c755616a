using System.Text.Json.Serialization;

namespace Marketplace.Models;

/// <summary>
/// One usage event of the metering service API (docs/marketplace.md#metering): how much of a dimension a subscription used in the hour
/// that starts at <see cref="EffectiveStartTime"/>. The marketplace keeps at most one per resource, dimension and hour.
/// </summary>
public sealed record UsageEvent
{
    /// <summary>The SaaS subscription id.</summary>
    [JsonPropertyName("resourceId")] public Guid ResourceId { get; init; }

    /// <summary>Greater than zero; fractions are allowed (e.g. GB processed).</summary>
    [JsonPropertyName("quantity")] public decimal Quantity { get; init; }

    [JsonPropertyName("dimension")] public string Dimension { get; init; } = "";

    /// <summary>UTC, within the last 24 hours.</summary>
    [JsonPropertyName("effectiveStartTime")] public DateTimeOffset EffectiveStartTime { get; init; }

    [JsonPropertyName("planId")] public string PlanId { get; init; } = "";
}

/// <summary>What the marketplace says about one usage event (docs/marketplace.md#metering, batch statuses).</summary>
[JsonConverter(typeof(LenientEnumConverter<UsageEventStatus>))]
public enum UsageEventStatus
{
    /// <summary>A status this client does not know yet: kept, never treated as accepted.</summary>
    Unknown = 0,
    Accepted,
    Expired,
    Duplicate,
    Error,
    ResourceNotFound,
    ResourceNotAuthorized,
    ResourceNotActive,
    InvalidDimension,
    InvalidQuantity,
    BadArgument,
}

/// <summary>
/// The marketplace's answer about one event. For <see cref="UsageEventStatus.Duplicate"/> the fields describe the event
/// the marketplace accepted earlier for that hour (its id and quantity), which may differ from the one just sent.
/// </summary>
public sealed record UsageEventResult
{
    [JsonPropertyName("usageEventId")] public Guid? UsageEventId { get; init; }
    [JsonPropertyName("status")] public UsageEventStatus Status { get; init; }
    [JsonPropertyName("messageTime")] public DateTimeOffset? MessageTime { get; init; }
    [JsonPropertyName("resourceId")] public Guid ResourceId { get; init; }
    [JsonPropertyName("quantity")] public decimal Quantity { get; init; }
    [JsonPropertyName("dimension")] public string Dimension { get; init; } = "";
    [JsonPropertyName("effectiveStartTime")] public DateTimeOffset EffectiveStartTime { get; init; }
    [JsonPropertyName("planId")] public string PlanId { get; init; } = "";

    /// <summary>Why an event was not accepted; for a duplicate it carries the accepted message.</summary>
    [JsonPropertyName("error")] public UsageEventError? Error { get; init; }

    /// <summary>True when the marketplace holds an event for this hour: ours now, or one it had already.</summary>
    [JsonIgnore]
    public bool IsBilled => Status is UsageEventStatus.Accepted or UsageEventStatus.Duplicate;
}

/// <summary>
/// The error of a usage call. The 409 body of a duplicate has this shape at top level:
/// <c>{ additionalInfo: { acceptedMessage: {…} }, message, code: "Conflict" }</c>; a 400 adds <c>target</c> and <c>details</c>.
/// </summary>
public sealed record UsageEventError
{
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("target")] public string? Target { get; init; }
    [JsonPropertyName("details")] public IReadOnlyList<UsageEventErrorDetail>? Details { get; init; }
    [JsonPropertyName("additionalInfo")] public UsageEventAdditionalInfo? AdditionalInfo { get; init; }
}

public sealed record UsageEventErrorDetail
{
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("target")] public string? Target { get; init; }
}

public sealed record UsageEventAdditionalInfo
{
    [JsonPropertyName("acceptedMessage")] public UsageEventResult? AcceptedMessage { get; init; }
}

/// <summary>Body of the batch call: up to <see cref="MaxEvents"/> events (docs/marketplace.md#metering).</summary>
public sealed record BatchUsageEventRequest
{
    public const int MaxEvents = 25;

    [JsonPropertyName("request")] public IReadOnlyList<UsageEvent> Request { get; init; } = [];
}

/// <summary>Answer of the batch call: one result per event sent, each with its own status.</summary>
public sealed record BatchUsageEventResult
{
    [JsonPropertyName("result")] public IReadOnlyList<UsageEventResult> Result { get; init; } = [];
    [JsonPropertyName("count")] public int Count { get; init; }
}

/// <summary>Filters of the retrieval call (<c>GET /usageEvents</c>); <see cref="UsageStartDate"/> is required by the service.</summary>
public sealed record ReportedUsageQuery
{
    public required DateTimeOffset UsageStartDate { get; init; }
    public DateTimeOffset? UsageEndDate { get; init; }
    public string? OfferId { get; init; }
    public string? PlanId { get; init; }
    public string? Dimension { get; init; }

    /// <summary>The SaaS subscription id.</summary>
    public Guid? ResourceId { get; init; }
}

/// <summary>One reported usage as the retrieval call lists it.</summary>
public sealed record ReportedUsage
{
    [JsonPropertyName("usageEventId")] public Guid? UsageEventId { get; init; }
    [JsonPropertyName("usageDate")] public DateTimeOffset UsageDate { get; init; }
    [JsonPropertyName("usageResourceId")] public Guid UsageResourceId { get; init; }
    [JsonPropertyName("offerId")] public string? OfferId { get; init; }
    [JsonPropertyName("planId")] public string? PlanId { get; init; }
    [JsonPropertyName("dimension")] public string Dimension { get; init; } = "";
    [JsonPropertyName("submittedQuantity")] public decimal SubmittedQuantity { get; init; }
    [JsonPropertyName("processedQuantity")] public decimal? ProcessedQuantity { get; init; }
    [JsonPropertyName("submittedCount")] public int SubmittedCount { get; init; }
    [JsonPropertyName("reconStatus")] public string? ReconStatus { get; init; }
}
