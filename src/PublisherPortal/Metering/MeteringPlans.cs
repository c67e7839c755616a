using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Marketplace;
using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Metering;

/// <summary>
/// The metering dimensions and included quantities of a plan: from the plans table when the catalogue has been stored
/// there, otherwise from the marketplace (listAvailablePlans), kept in memory for a while either way.
/// </summary>
public sealed partial class MeteringPlans(
    PortalDatabase database, IFulfillmentClient marketplace, TimeProvider time, ILogger<MeteringPlans> logger)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<(string Offer, string Plan), (Plan? Plan, DateTimeOffset Until)> _cache = new();

    /// <summary>The plan, or null when neither the database nor the marketplace can tell (then nothing is checked against it).</summary>
    public async Task<Plan?> FindAsync(Guid subscriptionId, string offerId, string planId, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue((offerId, planId), out var cached) && cached.Until > now)
        {
            return cached.Plan;
        }

        var plan = await FromDatabaseAsync(offerId, planId, ct) ?? await FromMarketplaceAsync(subscriptionId, planId, ct);
        // A miss is cached briefly too, so an unreachable marketplace does not slow every intake call.
        _cache[(offerId, planId)] = (plan, now + (plan is null ? TimeSpan.FromMinutes(1) : CacheFor));
        return plan;
    }

    public static IReadOnlyList<MeteringDimension> DimensionsOf(Plan? plan) => plan?.PlanComponents?.MeteringDimensions ?? [];

    /// <summary>Units of a dimension included in the plan's price per term (meteredQuantityIncluded); 0 when none.</summary>
    public static decimal IncludedUnits(Plan? plan, string dimension) =>
        (plan?.PlanComponents?.RecurrentBillingTerms ?? [])
            .SelectMany(t => t.MeteredQuantityIncluded)
            .Where(i => string.Equals(i.DimensionId, dimension, StringComparison.Ordinal))
            .Select(i => decimal.TryParse(i.Units, NumberStyles.Number, CultureInfo.InvariantCulture, out var u) ? u : 0m)
            .FirstOrDefault();

    private async Task<Plan?> FromDatabaseAsync(string offerId, string planId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var json = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT raw_json FROM plans WHERE offer_id = @offerId AND plan_id = @planId", new { offerId, planId }, cancellationToken: ct));
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Plan>(json, MarketplaceJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<Plan?> FromMarketplaceAsync(Guid subscriptionId, string planId, CancellationToken ct)
    {
        try
        {
            var plans = await marketplace.ListAvailablePlansAsync(subscriptionId, Guid.NewGuid(), planId, ct);
            return plans.FirstOrDefault(p => p.PlanId == planId);
        }
        catch (MarketplaceException ex)
        {
            LogPlanUnavailable(logger, planId, subscriptionId, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plan {PlanId} of subscription {SubscriptionId} could not be read from the marketplace: {Reason}")]
    private static partial void LogPlanUnavailable(ILogger logger, string planId, Guid subscriptionId, string reason);
}
