using System.Text;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Console;

/// <summary>What an operator narrowed the subscriptions grid to. Null means "any".</summary>
public sealed record SubscriptionFilter
{
    /// <summary>A subscription id, a tenant id, a customer e-mail, or part of the subscription's name.</summary>
    public string? Search { get; init; }
    public SubscriptionStatus? Status { get; init; }
    public string? OfferId { get; init; }
    public string? PlanId { get; init; }

    /// <summary>True: test subscriptions only; false: live only.</summary>
    public bool? IsTest { get; init; }
}

/// <summary>The columns the grid may sort by; each has an index behind it (0001 and 0002_console_indexes).</summary>
public enum SubscriptionSortColumn
{
    FirstSeen,
    Updated,
    Name,
    Status,
    Offer,
    Plan,
}

public sealed record SubscriptionPageRequest(
    SubscriptionFilter Filter,
    SubscriptionSortColumn SortBy = SubscriptionSortColumn.FirstSeen,
    bool Descending = true,
    int Skip = 0,
    int Take = 25);

/// <summary>One line of the grid: enough to recognise the subscription, nothing more.</summary>
public sealed record ConsoleSubscriptionRow
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string OfferId { get; init; } = "";
    public string PlanId { get; init; } = "";
    public int? Quantity { get; init; }
    public SubscriptionStatus Status { get; init; }
    public string? BeneficiaryEmail { get; init; }
    public string? BeneficiaryTenantId { get; init; }
    public string? PurchaserEmail { get; init; }
    public bool IsTest { get; init; }
    public bool AccessEnabled { get; init; }
    public DateTimeOffset FirstSeenAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <param name="TotalCount">How many match, counted up to <see cref="ConsoleSubscriptionQuery.CountCap"/>.</param>
/// <param name="MoreThanCounted">True when more than <see cref="ConsoleSubscriptionQuery.CountCap"/> match: the page says "1,000+".</param>
public sealed record ConsoleSubscriptionPage(IReadOnlyList<ConsoleSubscriptionRow> Rows, int TotalCount, bool MoreThanCounted = false);

/// <param name="Count">Counted up to <see cref="ConsoleSubscriptionQuery.CountCap"/>; <paramref name="MoreThanCounted"/> says there are more.</param>
public sealed record StatusCount(SubscriptionStatus Status, int Count, bool MoreThanCounted = false);

public sealed record OfferPlan(string OfferId, string PlanId);

/// <summary>
/// The operator console's subscriptions grid: one page at a time, filtered and sorted in SQL, never all rows.
/// LIMIT/OFFSET is fine here: the grid jumps to page n, operators rarely go past the first pages, and every sort has an
/// index (first_seen_at, updated_at, name, status, offer/plan) so the database walks only skip + take rows.
/// Counts stop at <see cref="CountCap"/>: an exact COUNT(*) reads every matching row, so it grew with the table and
/// made the first page at 100,000 subscriptions 30x slower than at 1,000 (bench/ConsoleBench). Beyond the cap an
/// operator narrows the filters rather than pages, so "1,000+" is the useful answer.
/// </summary>
public sealed class ConsoleSubscriptionQuery(PortalDatabase database)
{
    public const int CountCap = 1_000;

    private static readonly string[] CountedStatuses = Enum.GetNames<SubscriptionStatus>();

    private const string RowColumns = """
        SELECT id, name, offer_id, plan_id, quantity, status, beneficiary_email, beneficiary_tenant_id, purchaser_email,
               is_test, access_enabled, first_seen_at, updated_at
        FROM subscriptions
        """;

    // A GUID is an exact lookup on three indexed columns (id, either tenant); an e-mail on the two indexed e-mail columns.
    private const string SearchByGuid = "(id = @searchGuid OR beneficiary_tenant_id = @searchGuid OR purchaser_tenant_id = @searchGuid)";
    private const string SearchByEmail = "(beneficiary_email = @search OR purchaser_email = @search OR lower(beneficiary_email) = @searchLower OR lower(purchaser_email) = @searchLower)";

    // Anything else is a name fragment: operators type "contoso", not the name's first letters, so this scans.
    // lower() on both sides because LIKE is case-insensitive on SQLite and case-sensitive on PostgreSQL.
    private const string SearchByName = @"lower(name) LIKE @searchPattern ESCAPE '\'";

    private const string ByStatus = "status = @status";
    private const string ByOffer = "offer_id = @offerId";
    private const string ByPlan = "plan_id = @planId";
    private const string ByTestFlag = "is_test = @isTest";

    public async Task<ConsoleSubscriptionPage> PageAsync(SubscriptionPageRequest request, CancellationToken ct = default)
    {
        var (where, args) = BuildWhere(request.Filter, includeStatus: true);
        var order = request.SortBy switch
        {
            SubscriptionSortColumn.Updated => "updated_at",
            SubscriptionSortColumn.Name => "name",
            SubscriptionSortColumn.Status => "status",
            SubscriptionSortColumn.Offer => "offer_id",
            SubscriptionSortColumn.Plan => "plan_id",
            _ => "first_seen_at",
        };
        var direction = request.Descending ? "DESC" : "ASC";
        args.Add("take", Math.Clamp(request.Take, 1, 200));
        args.Add("skip", Math.Max(0, request.Skip));
        args.Add("cap", CountCap + 1);

        await using var connection = await database.OpenAsync(ct);
        var counted = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM (SELECT 1 FROM subscriptions{where} LIMIT @cap) AS capped", args, cancellationToken: ct));
        var rows = await connection.QueryAsync<ConsoleSubscriptionRow>(new CommandDefinition(
            $"{RowColumns}{where} ORDER BY {order} {direction}, id {direction} LIMIT @take OFFSET @skip", args, cancellationToken: ct));
        return new ConsoleSubscriptionPage(rows.AsList(), Math.Min(counted, CountCap), counted > CountCap);
    }

    /// <summary>
    /// How many subscriptions are in each status under the other filters: the chips at the top show where the
    /// operator would land by picking a status, so the status filter itself is left out.
    /// </summary>
    public async Task<IReadOnlyList<StatusCount>> CountByStatusAsync(SubscriptionFilter filter, CancellationToken ct = default)
    {
        var (where, args) = BuildWhere(filter, includeStatus: false);
        args.Add("cap", CountCap + 1);
        // One capped count per status, each a range of the status index: GROUP BY would read every row to count them.
        var perStatus = CountedStatuses.Select((status, i) =>
        {
            args.Add($"s{i}", status);
            var condition = (where.Length == 0 ? " WHERE " : where + " AND ") + $"status = @s{i}";
            return $"SELECT @s{i} AS status, (SELECT COUNT(*) FROM (SELECT 1 FROM subscriptions{condition} LIMIT @cap) AS capped) AS count";
        });

        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<(string Status, long Count)>(new CommandDefinition(
            string.Join(" UNION ALL ", perStatus), args, cancellationToken: ct));
        return rows
            .Where(r => r.Count > 0)
            .Select(r => new StatusCount(Enum.Parse<SubscriptionStatus>(r.Status), (int)Math.Min(r.Count, CountCap), r.Count > CountCap))
            .OrderBy(c => c.Status)
            .ToList();
    }

    /// <summary>The offers and plans to pick from: those our subscriptions use and those the catalogue lists.</summary>
    public async Task<IReadOnlyList<OfferPlan>> OffersAndPlansAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<OfferPlan>(new CommandDefinition("""
            SELECT offer_id, plan_id FROM subscriptions GROUP BY offer_id, plan_id
            UNION
            SELECT offer_id, plan_id FROM plans
            ORDER BY 1, 2
            """, cancellationToken: ct));
        return rows.AsList();
    }

    private static (string Where, DynamicParameters Args) BuildWhere(SubscriptionFilter filter, bool includeStatus)
    {
        var conditions = new List<string>();
        var args = new DynamicParameters();
        if (filter.Search?.Trim() is { Length: > 0 } search)
        {
            if (Guid.TryParse(search, out var guid))
            {
                conditions.Add(SearchByGuid);
                args.Add("searchGuid", guid.ToString("D"));
            }
            else if (search.Contains('@', StringComparison.Ordinal))
            {
                conditions.Add(SearchByEmail);
                args.Add("search", search);
                args.Add("searchLower", search.ToLowerInvariant());
            }
            else
            {
                conditions.Add(SearchByName);
                args.Add("searchPattern", "%" + EscapeLike(search.ToLowerInvariant()) + "%");
            }
        }

        if (includeStatus && filter.Status is { } status)
        {
            conditions.Add(ByStatus);
            args.Add("status", status.ToString());
        }

        if (filter.OfferId is { Length: > 0 } offerId)
        {
            conditions.Add(ByOffer);
            args.Add("offerId", offerId);
        }

        if (filter.PlanId is { Length: > 0 } planId)
        {
            conditions.Add(ByPlan);
            args.Add("planId", planId);
        }

        if (filter.IsTest is { } isTest)
        {
            conditions.Add(ByTestFlag);
            args.Add("isTest", isTest);
        }

        return (conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions), args);
    }

    private static string EscapeLike(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '%' or '_' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }
}
