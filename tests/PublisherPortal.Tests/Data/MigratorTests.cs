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
        var versions = (await connection.QueryAsync<long>("SELECT version FROM schema_migrations")).ToList();
        Assert.Equal(versions.Distinct().Count(), versions.Count);
        Assert.Contains(1L, versions);
    }

    [Fact]
    public async Task Database_runs_in_wal_mode_with_foreign_keys_on()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var connection = await db.Database.OpenAsync();

        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("PRAGMA foreign_keys"));
    }
}
