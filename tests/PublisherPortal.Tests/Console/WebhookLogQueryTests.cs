using Dapper;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Console;

/// <summary>The webhook log's time window, and an index behind every combination of filters the page offers.</summary>
public sealed class WebhookLogQueryTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);
    private TestDatabase _db = default!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task A_time_window_keeps_deliveries_from_its_start_up_to_but_not_including_its_end()
    {
        var before = await InsertAsync(Noon.AddHours(-1).AddTicks(-1));
        var atStart = await InsertAsync(Noon.AddHours(-1));
        var inside = await InsertAsync(Noon);
        var atEnd = await InsertAsync(Noon.AddHours(1));

        var page = await new WebhookLogQuery(_db.Database).PageAsync(
            new WebhookLogFilter { From = Noon.AddHours(-1), To = Noon.AddHours(1) }, skip: 0, take: 25);

        Assert.Equal([inside, atStart], page.Rows.Select(r => r.Id));
        Assert.Equal(2, page.TotalCount);
        Assert.DoesNotContain(before, page.Rows.Select(r => r.Id));
        Assert.DoesNotContain(atEnd, page.Rows.Select(r => r.Id));
    }

    [Fact]
    public async Task A_time_window_combines_with_the_result_filter()
    {
        await InsertAsync(Noon, result: "Unauthorized");
        var accepted = await InsertAsync(Noon.AddMinutes(1));
        await InsertAsync(Noon.AddDays(-3));

        var page = await new WebhookLogQuery(_db.Database).PageAsync(
            new WebhookLogFilter { Result = "Accepted", From = Noon.AddHours(-1) }, skip: 0, take: 25);

        Assert.Equal(accepted, Assert.Single(page.Rows).Id);
    }

    public static TheoryData<string> FilterCombinations => new()
    {
        "time", "result+time", "action+time", "subscription+time", "result", "action", "subscription", "from-only", "none",
    };

    [Theory]
    [MemberData(nameof(FilterCombinations))]
    public async Task Every_filter_combination_reads_through_an_index_instead_of_scanning_the_log(string combination)
    {
        if (!_db.Database.IsSqlite)
        {
            return; // the plan text below is SQLite's; PostgreSQL's planner decides by statistics, not by shape
        }

        var filter = combination switch
        {
            "time" => new WebhookLogFilter { From = Noon.AddDays(-1), To = Noon },
            "result+time" => new WebhookLogFilter { Result = "Accepted", From = Noon.AddDays(-1), To = Noon },
            "action+time" => new WebhookLogFilter { Action = "Suspend", From = Noon.AddDays(-1), To = Noon },
            "subscription+time" => new WebhookLogFilter { SubscriptionId = Guid.NewGuid(), From = Noon.AddDays(-1), To = Noon },
            "result" => new WebhookLogFilter { Result = "Accepted" },
            "action" => new WebhookLogFilter { Action = "Suspend" },
            "subscription" => new WebhookLogFilter { SubscriptionId = Guid.NewGuid() },
            "from-only" => new WebhookLogFilter { From = Noon },
            _ => new WebhookLogFilter(),
        };
        var (countSql, pageSql, args) = WebhookLogQuery.Commands(filter, skip: 0, take: 25);

        await using var connection = await _db.Database.OpenAsync();
        foreach (var sql in new[] { countSql, pageSql })
        {
            var plan = string.Join(" | ", (await connection.QueryAsync<(long, long, long, string Detail)>("EXPLAIN QUERY PLAN " + sql, args)).Select(p => p.Detail));
            Assert.DoesNotMatch(@"SCAN webhook_deliveries(?! USING)", plan);
            Assert.DoesNotContain("USE TEMP B-TREE FOR ORDER BY", plan, StringComparison.Ordinal);
        }
    }

    private async Task<long> InsertAsync(DateTimeOffset receivedAt, string result = "Accepted")
    {
        await using var connection = await _db.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO webhook_deliveries (received_at, operation_id, action, body, headers, result, processing_state)
            VALUES (@receivedAt, @operationId, 'Suspend', '{}', '{}', @result, 'Applied') RETURNING id
            """, new { receivedAt, operationId = Guid.NewGuid().ToString("D"), result });
    }
}
