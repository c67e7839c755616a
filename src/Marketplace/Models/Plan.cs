using System.Text.Json.Serialization;

namespace Marketplace.Models;

public sealed record PlanList
{
    [JsonPropertyName("plans")] public IReadOnlyList<Plan> Plans { get; init; } = [];
}

/// <summary>A plan of the offer's catalogue (docs/marketplace.md#plan-object).</summary>
public sealed record Plan
{
    [JsonPropertyName("planId")] public string PlanId { get; init; } = "";
    [JsonPropertyName("displayName")] public string DisplayName { get; init; } = "";
    [JsonPropertyName("description")] public string? Description { get; init; }
    [JsonPropertyName("isPrivate")] public bool IsPrivate { get; init; }
    [JsonPropertyName("isPricePerSeat")] public bool IsPricePerSeat { get; init; }
    [JsonPropertyName("isStopSell")] public bool IsStopSell { get; init; }
    [JsonPropertyName("hasFreeTrials")] public bool HasFreeTrials { get; init; }
    [JsonPropertyName("market")] public string? Market { get; init; }

    [JsonPropertyName("minQuantity"), JsonConverter(typeof(LenientNullableIntConverter))]
    public int? MinQuantity { get; init; }

    [JsonPropertyName("maxQuantity"), JsonConverter(typeof(LenientNullableIntConverter))]
    public int? MaxQuantity { get; init; }

    [JsonPropertyName("planComponents")] public PlanComponents? PlanComponents { get; init; }
    [JsonPropertyName("sourceOffers")] public IReadOnlyList<SourceOffer>? SourceOffers { get; init; }
}

public sealed record SourceOffer
{
    [JsonPropertyName("externalId")] public string? ExternalId { get; init; }
}

public sealed record PlanComponents
{
    [JsonPropertyName("recurrentBillingTerms")] public IReadOnlyList<RecurrentBillingTerm> RecurrentBillingTerms { get; init; } = [];
    [JsonPropertyName("meteringDimensions")] public IReadOnlyList<MeteringDimension> MeteringDimensions { get; init; } = [];
}

public sealed record RecurrentBillingTerm
{
    [JsonPropertyName("currency")] public string? Currency { get; init; }
    [JsonPropertyName("price")] public decimal? Price { get; init; }
    [JsonPropertyName("termUnit")] public string? TermUnit { get; init; }
    [JsonPropertyName("termDescription")] public string? TermDescription { get; init; }
    [JsonPropertyName("meteredQuantityIncluded")] public IReadOnlyList<MeteredQuantityIncluded> MeteredQuantityIncluded { get; init; } = [];
}

public sealed record MeteredQuantityIncluded
{
    [JsonPropertyName("dimensionId")] public string DimensionId { get; init; } = "";
    [JsonPropertyName("units")] public string? Units { get; init; }
}

public sealed record MeteringDimension
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("currency")] public string? Currency { get; init; }
    [JsonPropertyName("pricePerUnit")] public decimal? PricePerUnit { get; init; }
    [JsonPropertyName("unitOfMeasure")] public string? UnitOfMeasure { get; init; }
    [JsonPropertyName("displayName")] public string? DisplayName { get; init; }
}
