using Dapper;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Data;

public sealed class MigratorTests
{
    [Fact]
    public async Task Applying_migrations_twice_changes_nothing_the_second_time()
    {
        await using var db = await TestDatabase.CreateAsync();

        var second = await db.CreateMigrator().ApplyAsync();

        Assert.Equal(0, second);
        await using var connection = await db.Database.OpenAsync();
        var names = (await connection.QueryAsync<string>("SELECT name FROM schema_migrations")).ToList();
        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Contains("0001_initial.sql", names);
    }

    [Fact]
    public async Task Foreign_keys_are_enforced()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var connection = await db.Database.OpenAsync();

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => connection.ExecuteAsync("""
            INSERT INTO subscription_events (subscription_id, offer_id, occurred_at, kind, source)
            VALUES ('no-such-subscription', 'offer', @at, 'Resolved', 'system')
            """, new { at = db.Time.GetUtcNow() }));
    }

    [Fact]
    public async Task Sqlite_runs_in_wal_mode_so_readers_never_wait_for_the_webhook_writer()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var connection = await db.Database.OpenAsync();

        var expected = db.Database.IsSqlite ? "wal" : null;
        var actual = db.Database.IsSqlite ? await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode") : null;
        Assert.Equal(expected, actual);
    }
}
