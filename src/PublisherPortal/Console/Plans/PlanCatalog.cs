using System.Globalization;
using System.Text.Json;
using Dapper;
using Marketplace;
using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Console;

/// <summary>A plan of the catalogue with how much of it is in use.</summary>
public sealed record CataloguePlan
{
    public string OfferId { get; init; } = "";
    public string PlanId { get; init; } = "";
    public string DisplayName { get; init; } = "";
    public string? Description { get; init; }
    public bool IsPricePerSeat { get; init; }
    public int? MinQuantity { get; init; }
    public int? MaxQuantity { get; init; }
    public bool IsPrivate { get; init; }
    public bool IsStopSell { get; init; }

    /// <summary>"USD 12.00 per month", from the plan's recurrent billing terms; null when the marketplace gave no price.</summary>
    public string? Price { get; init; }

    public DateTimeOffset? RefreshedAt { get; init; }

    /// <summary>False when subscriptions use the plan but the catalogue we hold does not list it (never refreshed, or withdrawn).</summary>
    public bool IsListed { get; init; } = true;

    /// <summary>Subscriptions on the plan that have not ended (pending, active or suspended).</summary>
    public int SubscriptionCount { get; init; }
    public int SeatCount { get; init; }
}

public sealed record CatalogueRefresh(int Offers, int Plans, IReadOnlyList<string> Problems);

/// <summary>The plans the marketplace offers one subscription now, or why it could not say.</summary>
public sealed record AvailablePlans(IReadOnlyList<Plan> Plans, string? Problem);

/// <summary>
/// The catalogue per offer as the marketplace lists it. The API has no "list plans of an offer" call, only
/// listAvailablePlans for a subscription (docs/marketplace.md#list-available-plans), so a refresh asks once per offer, for one of its subscriptions.
/// </summary>
public sealed partial class PlanCatalog(
    PortalDatabase database,
    PlanStore planStore,
    IFulfillmentClient marketplace,
    ILogger<PlanCatalog> logger)
{
    private sealed record StoredPlan
    {
        public string OfferId { get; init; } = "";
        public string PlanId { get; init; } = "";
        public string DisplayName { get; init; } = "";
        public string? Description { get; init; }
        public bool IsPricePerSeat { get; init; }
        public int? MinQuantity { get; init; }
        public int? MaxQuantity { get; init; }
        public bool IsPrivate { get; init; }
        public bool IsStopSell { get; init; }
        public string RawJson { get; init; } = "{}";
        public DateTimeOffset RefreshedAt { get; init; }
    }

    // Init properties, not a positional record: on an empty result SQLite reports no column types, and Dapper's
    // constructor matching then fails where property mapping does not.
    private sealed record PlanUsage
    {
        public string OfferId { get; init; } = "";
        public string PlanId { get; init; } = "";
        public long SubscriptionCount { get; init; }
        public long SeatCount { get; init; }
    }

    public async Task<IReadOnlyList<CataloguePlan>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var stored = (await connection.QueryAsync<StoredPlan>(new CommandDefinition("""
            SELECT offer_id, plan_id, display_name, description, is_price_per_seat, min_quantity, max_quantity,
                   is_private, is_stop_sell, raw_json, refreshed_at
            FROM plans
            ORDER BY offer_id, plan_id
            """, cancellationToken: ct))).AsList();

        // Uses ix_subscriptions_offer_plan; one row per plan in use, however many subscriptions there are.
        var usage = (await connection.QueryAsync<PlanUsage>(new CommandDefinition("""
            SELECT offer_id, plan_id, COUNT(*) AS subscription_count, COALESCE(SUM(quantity), 0) AS seat_count
            FROM subscriptions
            WHERE status <> 'Unsubscribed'
            GROUP BY offer_id, plan_id
            """, cancellationToken: ct))).ToDictionary(u => (u.OfferId, u.PlanId));

        var plans = stored.Select(p =>
        {
            usage.Remove((p.OfferId, p.PlanId), out var used);
            return new CataloguePlan
            {
                OfferId = p.OfferId,
                PlanId = p.PlanId,
                DisplayName = p.DisplayName,
                Description = p.Description,
                IsPricePerSeat = p.IsPricePerSeat,
                MinQuantity = p.MinQuantity,
                MaxQuantity = p.MaxQuantity,
                IsPrivate = p.IsPrivate,
                IsStopSell = p.IsStopSell,
                Price = DescribePrice(p.RawJson),
                RefreshedAt = p.RefreshedAt,
                SubscriptionCount = (int)(used?.SubscriptionCount ?? 0),
                SeatCount = (int)(used?.SeatCount ?? 0),
            };
        }).ToList();

        plans.AddRange(usage.Values.Select(u => new CataloguePlan
        {
            OfferId = u.OfferId,
            PlanId = u.PlanId,
            DisplayName = u.PlanId,
            IsListed = false,
            SubscriptionCount = (int)u.SubscriptionCount,
            SeatCount = (int)u.SeatCount,
        }));

        return plans.OrderBy(p => p.OfferId, StringComparer.Ordinal).ThenBy(p => p.PlanId, StringComparer.Ordinal).ToList();
    }

    /// <summary>The stored plan, for checking seat bounds before asking the marketplace.</summary>
    public async Task<CataloguePlan?> FindAsync(string offerId, string planId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var p = await connection.QuerySingleOrDefaultAsync<StoredPlan>(new CommandDefinition("""
            SELECT offer_id, plan_id, display_name, description, is_price_per_seat, min_quantity, max_quantity,
                   is_private, is_stop_sell, raw_json, refreshed_at
            FROM plans WHERE offer_id = @offerId AND plan_id = @planId
            """, new { offerId, planId }, cancellationToken: ct));
        return p is null ? null : new CataloguePlan
        {
            OfferId = p.OfferId,
            PlanId = p.PlanId,
            DisplayName = p.DisplayName,
            IsPricePerSeat = p.IsPricePerSeat,
            MinQuantity = p.MinQuantity,
            MaxQuantity = p.MaxQuantity,
            IsPrivate = p.IsPrivate,
            IsStopSell = p.IsStopSell,
            Price = DescribePrice(p.RawJson),
            RefreshedAt = p.RefreshedAt,
        };
    }

    /// <summary>What this subscription may switch to, as the marketplace lists it now (private plans included).</summary>
    public async Task<AvailablePlans> AvailableForAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        try
        {
            return new AvailablePlans(await marketplace.ListAvailablePlansAsync(subscriptionId, Guid.NewGuid(), ct: ct), null);
        }
        catch (Exception e) when (e is MarketplaceException or HttpRequestException or TimeoutException && !ct.IsCancellationRequested)
        {
            Log.AvailablePlansFailed(logger, subscriptionId, e.Message);
            return new AvailablePlans([], "The marketplace did not list the available plans just now. Reload the page to try again.");
        }
    }

    /// <summary>
    /// Asks the marketplace for the plans of every offer we have a live subscription of, and stores them.
    /// Callers check the operator role first (<see cref="OperatorActions.RefreshCatalogueAsync"/>).
    /// A plan missing from a fresh answer is kept: private plans are listed only to the subscriptions they were offered to.
    /// </summary>
    public async Task<CatalogueRefresh> RefreshAsync(CancellationToken ct = default)
    {
        IReadOnlyList<(string OfferId, string SubscriptionId)> probes;
        await using (var connection = await database.OpenAsync(ct))
        {
            probes = (await connection.QueryAsync<(string, string)>(new CommandDefinition("""
                SELECT offer_id, MIN(id)
                FROM subscriptions
                WHERE status IN ('Subscribed', 'Suspended', 'PendingFulfillmentStart')
                GROUP BY offer_id
                ORDER BY offer_id
                """, cancellationToken: ct))).AsList();
        }

        var problems = new List<string>();
        var planCount = 0;
        foreach (var (offerId, subscriptionId) in probes)
        {
            IReadOnlyList<Plan> plans;
            try
            {
                plans = await marketplace.ListAvailablePlansAsync(Guid.Parse(subscriptionId), Guid.NewGuid(), ct: ct);
            }
            catch (Exception e) when (e is MarketplaceException or HttpRequestException or TimeoutException && !ct.IsCancellationRequested)
            {
                Log.RefreshFailed(logger, offerId, e.Message);
                problems.Add($"{offerId}: the marketplace did not list its plans ({e.Message}).");
                continue;
            }

            await StoreAsync(offerId, plans, ct);
            planCount += plans.Count;
        }

        return new CatalogueRefresh(probes.Count, planCount, problems);
    }

    private async Task StoreAsync(string offerId, IReadOnlyList<Plan> plans, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await planStore.UpsertAsync(offerId, plans, connection, tx, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The first recurrent billing term as text; the stored JSON is the marketplace's plan object.</summary>
    public static string? DescribePrice(string rawJson)
    {
        Plan? plan;
        try
        {
            plan = JsonSerializer.Deserialize<Plan>(rawJson, MarketplaceJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }

        var term = plan?.PlanComponents?.RecurrentBillingTerms.FirstOrDefault(t => t.Price is not null);
        if (term?.Price is not { } price)
        {
            return null;
        }

        var per = term.TermUnit switch
        {
            "P1M" => "month",
            "P1Y" => "year",
            "P2Y" => "2 years",
            "P3Y" => "3 years",
            { Length: > 0 } other => other,
            _ => null,
        };
        var amount = $"{term.Currency ?? ""} {price.ToString("0.00", CultureInfo.InvariantCulture)}".Trim();
        var seat = plan!.IsPricePerSeat ? " per seat" : "";
        return per is null ? amount + seat : $"{amount}{seat} per {per}";
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the plans of offer {OfferId}: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string offerId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list the available plans of {SubscriptionId}: {Reason}")]
        public static partial void AvailablePlansFailed(ILogger logger, Guid subscriptionId, string reason);
    }
}
