using System.Text.Json.Serialization;

namespace Marketplace.Models;

/// <summary>An operation (docs/marketplace.md#operations-api), and the body of a webhook delivery
/// (docs/marketplace.md#webhook-payload) which adds the subscription.</summary>
public sealed record MarketplaceOperation
{
    [JsonPropertyName("id")] public Guid Id { get; init; }
    [JsonPropertyName("activityId")] public Guid? ActivityId { get; init; }
    [JsonPropertyName("subscriptionId")] public Guid SubscriptionId { get; init; }
    [JsonPropertyName("publisherId")] public string? PublisherId { get; init; }
    [JsonPropertyName("offerId")] public string? OfferId { get; init; }
    [JsonPropertyName("planId")] public string? PlanId { get; init; }

    [JsonPropertyName("quantity"), JsonConverter(typeof(LenientNullableIntConverter))]
    public int? Quantity { get; init; }

    /// <summary>Kept as text: actions we do not know (e.g. Transfer) are stored and shown, never acted on.</summary>
    [JsonPropertyName("action")] public string Action { get; init; } = "";

    [JsonPropertyName("timeStamp")] public DateTimeOffset? TimeStamp { get; init; }
    [JsonPropertyName("status")] public OperationStatus Status { get; init; }

    [JsonPropertyName("operationRequestSource")] public string? OperationRequestSource { get; init; }

    /// <summary>Microsoft's sample emulator spells it this way; accepted, never sent.</summary>
    [JsonPropertyName("operationRequestedSource"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OperationRequestedSource { get; init; }

    [JsonPropertyName("errorStatusCode")] public string? ErrorStatusCode { get; init; }
    [JsonPropertyName("errorMessage")] public string? ErrorMessage { get; init; }

    /// <summary>Present on webhook deliveries (state before the change in samples); absent on older ones.</summary>
    [JsonPropertyName("subscription"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MarketplaceSubscription? Subscription { get; init; }

    [JsonPropertyName("purchaseToken")] public string? PurchaseToken { get; init; }

    [JsonIgnore] public string? RequestSource => OperationRequestSource ?? OperationRequestedSource;

    [JsonIgnore] public OperationAction KnownAction => OperationActions.Parse(Action);
}

[JsonConverter(typeof(LenientEnumConverter<OperationStatus>))]
public enum OperationStatus
{
    Unknown = 0,
    NotStarted,
    InProgress,
    Failed,
    Succeeded,
    Conflict,
}

public enum OperationAction
{
    Unknown = 0,
    ChangePlan,
    ChangeQuantity,
    Renew,
    Suspend,
    Reinstate,
    Unsubscribe,
    Subscribe,
}

public static class OperationActions
{
    public static OperationAction Parse(string? value) =>
        Enum.TryParse<OperationAction>(value?.Trim(), ignoreCase: true, out var action) && Enum.IsDefined(action)
            ? action
            : OperationAction.Unknown;
}

public sealed record OperationList
{
    [JsonPropertyName("operations")] public IReadOnlyList<MarketplaceOperation> Operations { get; init; } = [];
}

/// <summary>Body of "Update operation status": only Success or Failure are ever sent.</summary>
public sealed record OperationStatusUpdate([property: JsonPropertyName("status")] string Status)
{
    public static OperationStatusUpdate Success { get; } = new("Success");
    public static OperationStatusUpdate Failure { get; } = new("Failure");
}

/// <summary>What a 202 gives back: the operation to follow and where to poll it.</summary>
public sealed record OperationAccepted(Guid OperationId, Uri Location);
