using System.Text;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Console;

/// <summary>What an operator narrowed the subscriptions grid to. Null means "any".</summary>
public sealed record SubscriptionFilter
{
    /// <summary>
    /// A subscription id or tenant id (whole, or its first <see cref="ConsoleSubscriptionQuery.MinimumIdPrefixLength"/>
    /// or more characters), a customer e-mail, or part of the subscription's name.
    /// </summary>
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
public sealed record StatusCount(SubscriptionStatus Status, int Count, bool MoreThanCounted = false)
{
    /// <summary>
    /// How many match the grid's filters, from the status chips' counts (taken under the same filters but the status):
    /// all chips without a status filter, that status's chip with one. The grid pages with this instead of counting again.
    /// </summary>
    public static (int Total, bool MoreThanCounted) Matching(IReadOnlyList<StatusCount> counts, SubscriptionStatus? status)
    {
        var counted = status is { } only ? counts.Where(c => c.Status == only).ToList() : counts;
        return (counted.Sum(c => c.Count), counted.Any(c => c.MoreThanCounted));
    }
}

public sealed record OfferPlan(string OfferId, string PlanId);

/// <summary>
/// The operator console's subscriptions grid: one page at a time, filtered and sorted in SQL, never all rows.
/// LIMIT/OFFSET is fine here: the grid jumps to page n, operators rarely go past the first pages, and every sort has an
/// index (first_seen_at, updated_at, name, status, offer/plan) so the database walks only skip + take rows.
/// Counts stop at <see cref="CountCap"/>: an exact COUNT(*) reads every matching row, so it grew with the table and
/// made the first page at 100,000 subscriptions 30x slower than at 1,000 (bench/ConsoleBench). Beyond the cap an
/// operator narrows the filters rather than pages, so "1,000+" is the useful answer. The page counts once per filter
/// (<see cref="CountByStatusAsync"/>, the chips) and pages with <see cref="RowsAsync"/>, which does not count.
/// </summary>
public sealed class ConsoleSubscriptionQuery(PortalDatabase database)
{
    public const int CountCap = 1_000;

    /// <summary>Shortest text taken as the start of an id: "3f2a" is as likely a name fragment as an id's start.</summary>
    public const int MinimumIdPrefixLength = 8;

    private static readonly string[] CountedStatuses = Enum.GetNames<SubscriptionStatus>();

    private const string Columns = """
        id, name, offer_id, plan_id, quantity, status, beneficiary_email, beneficiary_tenant_id, purchaser_email,
        is_test, access_enabled, first_seen_at, updated_at
        """;

    // Ids are searched on three columns: the subscription id and either tenant. A whole GUID is an equality, so a tenant
    // with many subscriptions is read newest first straight from (tenant, first_seen_at, id) (0005_console_search_indexes);
    // the first characters of one (an operator pasting or typing part of an id) are a prefix, i.e. a range of the same
    // index. PostgreSQL compares text by the database's collation, where '-' may be ignored, so there the columns are
    // compared as "C" (bytes) and its 0005 indexes are built on the same expressions; SQLite compares bytes already.
    private static readonly string[] IdColumns = ["id", "beneficiary_tenant_id", "purchaser_tenant_id"];

    private const string SearchByEmail = "(beneficiary_email = @search OR purchaser_email = @search OR lower(beneficiary_email) = @searchLower OR lower(purchaser_email) = @searchLower)";

    // Anything else is a name fragment: operators type "contoso", not the name's first letters, so this scans.
    // lower() on both sides because LIKE is case-insensitive on SQLite and case-sensitive on PostgreSQL.
    private const string SearchByName = @"lower(name) LIKE @searchPattern ESCAPE '\'";

    private const string ByStatus = "status = @status";
    private const string ByOffer = "offer_id = @offerId";
    private const string ByPlan = "plan_id = @planId";
    private const string ByTestFlag = "is_test = @isTest";

    /// <summary>The rows and their (capped) count, for a caller that has not counted under this filter already.</summary>
    public async Task<ConsoleSubscriptionPage> PageAsync(SubscriptionPageRequest request, CancellationToken ct = default)
    {
        var (where, args) = BuildWhere(request.Filter, includeStatus: true);
        args.Add("cap", CountCap + 1);
        int counted;
        await using (var connection = await database.OpenAsync(ct))
        {
            counted = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                $"SELECT COUNT(*) FROM (SELECT 1 FROM subscriptions{where} LIMIT @cap) AS capped", args, cancellationToken: ct));
        }

        var rows = await RowsAsync(request, ct);
        return new ConsoleSubscriptionPage(rows, Math.Min(counted, CountCap), counted > CountCap);
    }

    /// <summary>One page of rows, not counted: the grid takes its total from the status chips' counts.</summary>
    public async Task<IReadOnlyList<ConsoleSubscriptionRow>> RowsAsync(SubscriptionPageRequest request, CancellationToken ct = default)
    {
        var search = Classify(request.Filter.Search);
        // An id search is merged below from one read per id column, each under the other filters.
        var (where, args) = BuildWhere(search is IdSearch ? request.Filter with { Search = null } : request.Filter, includeStatus: true);
        var order = request.SortBy switch
        {
            SubscriptionSortColumn.Updated => "updated_at",
            SubscriptionSortColumn.Name => "name",
            SubscriptionSortColumn.Status => "status",
            SubscriptionSortColumn.Offer => "offer_id",
            SubscriptionSortColumn.Plan => "plan_id",
            _ => "first_seen_at",
        };
        var orderBy = request.Descending ? $"{order} DESC, id DESC" : $"{order} ASC, id ASC";
        var take = Math.Clamp(request.Take, 1, 200);
        var skip = Math.Max(0, request.Skip);
        args.Add("take", take);
        args.Add("skip", skip);

        string sql;
        if (search is IdSearch ids)
        {
            // One sorted, limited read per id column, merged: an OR over the three would fetch every match of a big
            // tenant and sort them all (3.6x slower at 100,000 subscriptions), while each branch here stops after
            // skip + take entries of its index. UNION also drops a subscription found twice (beneficiary = purchaser).
            args.Add("branchLimit", skip + take);
            AddSearchArgs(ids, args);
            var branches = IdColumns.Select((column, i) =>
                $"SELECT * FROM (SELECT {Columns} FROM subscriptions WHERE {IdCondition(ids, column)}{And(where)} ORDER BY {orderBy} LIMIT @branchLimit) AS by_{i}");
            sql = $"{string.Join(" UNION ", branches)} ORDER BY {orderBy} LIMIT @take OFFSET @skip";
        }
        else
        {
            sql = $"SELECT {Columns} FROM subscriptions{where} ORDER BY {orderBy} LIMIT @take OFFSET @skip";
        }

        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<ConsoleSubscriptionRow>(new CommandDefinition(sql, args, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// How many subscriptions are in each status under the other filters: the chips at the top show where the
    /// operator would land by picking a status, so the status filter itself is left out.
    /// </summary>
    public async Task<IReadOnlyList<StatusCount>> CountByStatusAsync(SubscriptionFilter filter, CancellationToken ct = default)
    {
        var (where, args) = BuildWhere(filter, includeStatus: false);
        args.Add("cap", CountCap + 1);
        string sql;
        bool stoppedAtCap;
        if (Classify(filter.Search) is null && filter.OfferId is not { Length: > 0 } && filter.IsTest is null)
        {
            // Nothing or only a plan: one capped count per status, each a range of an index that leads with status
            // (0003's status, 0005's status + plan), read without touching a row. GROUP BY would read every row.
            var perStatus = CountedStatuses.Select((status, i) =>
            {
                args.Add($"s{i}", status);
                var condition = (where.Length == 0 ? " WHERE " : where + " AND ") + $"status = @s{i}";
                return $"SELECT @s{i} AS status, (SELECT COUNT(*) FROM (SELECT 1 FROM subscriptions{condition} LIMIT @cap) AS capped) AS count";
            });
            sql = string.Join(" UNION ALL ", perStatus);
            stoppedAtCap = false;
        }
        else
        {
            // A search, an offer or the test flag: the matches are found through that filter's own index and counted
            // by status in one pass of at most CountCap + 1 rows. Counted per status instead, the planner walks each
            // status's whole range testing the filter row by row (100x slower at 100,000 subscriptions than at 1,000,
            // bench/ConsoleBench). Past the cap every chip says "at least" (N+).
            stoppedAtCap = true;
            if (Classify(filter.Search) is IdSearch ids)
            {
                // Per id column, from its index alone (0005 puts status in the tenant indexes); UNION drops the
                // subscriptions found under both tenants. An OR would fetch every matching row from the table.
                var (others, _) = BuildWhere(filter with { Search = null }, includeStatus: false);
                var branches = IdColumns.Select((column, i) =>
                    $"SELECT * FROM (SELECT id, status FROM subscriptions WHERE {IdCondition(ids, column)}{And(others)} LIMIT @cap) AS by_{i}");
                sql = $"SELECT status, COUNT(*) AS count FROM ({string.Join(" UNION ", branches)}) AS matched GROUP BY status";
            }
            else
            {
                sql = $"SELECT status, COUNT(*) AS count FROM (SELECT status FROM subscriptions{where} LIMIT @cap) AS matched GROUP BY status";
            }
        }

        await using var connection = await database.OpenAsync(ct);
        var rows = (await connection.QueryAsync<(string Status, long Count)>(new CommandDefinition(sql, args, cancellationToken: ct))).AsList();
        var reachedCap = stoppedAtCap && rows.Sum(r => r.Count) > CountCap;
        return rows
            .Where(r => r.Count > 0)
            .Select(r => new StatusCount(Enum.Parse<SubscriptionStatus>(r.Status), (int)Math.Min(r.Count, CountCap), r.Count > CountCap || reachedCap))
            .OrderBy(c => c.Status)
            .ToList();
    }

    /// <summary>The offers and plans to pick from: those our subscriptions use and those the catalogue lists.</summary>
    public async Task<IReadOnlyList<OfferPlan>> OffersAndPlansAsync(CancellationToken ct = default)
    {
        // The pairs in use are found by hopping through the (offer_id, plan_id) index, one seek per distinct pair, instead
        // of GROUP BY, which reads the whole index (7 ms of every first render at 100,000 subscriptions, none at 1,000).
        // Each step asks for the first pair after the last one found; the row-value comparison is an index range on
        // both SQLite and PostgreSQL. The walk ends when a step finds nothing (NULL).
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<OfferPlan>(new CommandDefinition("""
            WITH RECURSIVE in_use (offer_id, plan_id) AS (
                SELECT offer_id, plan_id FROM (SELECT offer_id, plan_id FROM subscriptions ORDER BY offer_id, plan_id LIMIT 1) AS first_pair
                UNION ALL
                SELECT (SELECT s.offer_id FROM subscriptions s WHERE (s.offer_id, s.plan_id) > (p.offer_id, p.plan_id) ORDER BY s.offer_id, s.plan_id LIMIT 1),
                       (SELECT s.plan_id FROM subscriptions s WHERE (s.offer_id, s.plan_id) > (p.offer_id, p.plan_id) ORDER BY s.offer_id, s.plan_id LIMIT 1)
                FROM in_use p
                WHERE p.offer_id IS NOT NULL
            )
            SELECT offer_id, plan_id FROM in_use WHERE offer_id IS NOT NULL
            UNION
            SELECT offer_id, plan_id FROM plans
            ORDER BY 1, 2
            """, cancellationToken: ct));
        return rows.AsList();
    }

    private (string Where, DynamicParameters Args) BuildWhere(SubscriptionFilter filter, bool includeStatus)
    {
        var conditions = new List<string>();
        var args = new DynamicParameters();
        switch (Classify(filter.Search))
        {
            case IdSearch ids:
                conditions.Add("(" + string.Join(" OR ", IdColumns.Select(column => IdCondition(ids, column))) + ")");
                AddSearchArgs(ids, args);
                break;
            case EmailSearch email:
                conditions.Add(SearchByEmail);
                args.Add("search", email.Text);
                args.Add("searchLower", email.Text.ToLowerInvariant());
                break;
            case NameSearch name:
                conditions.Add(SearchByName);
                args.Add("searchPattern", "%" + EscapeLike(name.Fragment.ToLowerInvariant()) + "%");
                break;
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

    private static string And(string where) => where.Length == 0 ? "" : " AND " + where[" WHERE ".Length..];

    /// <summary>One id column matched against the search: equal to a whole GUID, or within a GUID prefix's byte range.</summary>
    private string IdCondition(IdSearch search, string column)
    {
        var compared = database.Sql(sqlite: column, postgres: $"{column} COLLATE \"C\"");
        return search.IsWhole ? $"{compared} = @idFrom" : $"{compared} >= @idFrom AND {compared} < @idTo";
    }

    private static void AddSearchArgs(IdSearch search, DynamicParameters args)
    {
        args.Add("idFrom", search.Text);
        if (!search.IsWhole)
        {
            // Every text starting with the prefix sorts at or after it and before the prefix with its last character
            // raised by one; the prefix holds only hex digits and '-', so the raised character is still plain ASCII.
            args.Add("idTo", search.Text[..^1] + (char)(search.Text[^1] + 1));
        }
    }

    private abstract record Search;

    /// <param name="Text">Lower case, as ids are stored (<see cref="Guid.ToString(string)"/> "D").</param>
    private sealed record IdSearch(string Text, bool IsWhole) : Search;

    private sealed record EmailSearch(string Text) : Search;

    private sealed record NameSearch(string Fragment) : Search;

    private static Search? Classify(string? text)
    {
        if (text?.Trim() is not { Length: > 0 } search)
        {
            return null;
        }

        if (Guid.TryParse(search, out var guid))
        {
            return new IdSearch(guid.ToString("D"), IsWhole: true);
        }

        if (search.Length >= MinimumIdPrefixLength && IsStartOfGuid(search))
        {
            return new IdSearch(search.ToLowerInvariant(), IsWhole: false);
        }

        return search.Contains('@', StringComparison.Ordinal) ? new EmailSearch(search) : new NameSearch(search);
    }

    /// <summary>True when the text is how a GUID written "D" (8-4-4-4-12 hex digits) begins.</summary>
    private static bool IsStartOfGuid(string text)
    {
        const string Shape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
        if (text.Length > Shape.Length)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var fits = Shape[i] == '-' ? text[i] == '-' : char.IsAsciiHexDigit(text[i]);
            if (!fits)
            {
                return false;
            }
        }

        return true;
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
