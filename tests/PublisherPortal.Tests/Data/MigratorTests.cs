using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using PublisherPortal.Data;
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
    public async Task Readers_and_the_webhook_writer_never_wait_for_each_other()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var setup = await db.Database.OpenAsync())
        {
            await setup.ExecuteAsync(
                "INSERT INTO job_leases (name, owner, lease_until) VALUES ('probe', 'before', @at)", new { at = db.Time.GetUtcNow() });
        }

        const string ReadOwner = "SELECT owner FROM job_leases WHERE name = 'probe'";
        const string WriteOwner = "UPDATE job_leases SET owner = @owner WHERE name = 'probe'";

        // A page in the middle of its reads holds a read transaction open.
        await using var reader = await OpenWithoutWaitingAsync(db.Database);
        await using (var read = reader is SqliteConnection sqliteReader
            ? sqliteReader.BeginTransaction(deferred: true)
            : await reader.BeginTransactionAsync())
        {
            Assert.Equal("before", await reader.ExecuteScalarAsync<string>(ReadOwner, transaction: read));

            // The webhook inbox commits meanwhile. Neither side may wait: a lock in the way is an error at once, not a delay.
            // SQLite gets this only in WAL mode (the migrator sets it); in rollback-journal mode this commit is SQLITE_BUSY.
            await using var writer = await OpenWithoutWaitingAsync(db.Database);
            await using (var write = await db.Database.BeginWriteAsync(writer))
            {
                await writer.ExecuteAsync(WriteOwner, new { owner = "committed" }, write);
                await write.CommitAsync();
            }

            // And a writer's uncommitted change neither blocks a reader nor shows through.
            await using var pending = await db.Database.BeginWriteAsync(writer);
            await writer.ExecuteAsync(WriteOwner, new { owner = "uncommitted" }, pending);
            await using var another = await OpenWithoutWaitingAsync(db.Database);
            Assert.Equal("committed", await another.ExecuteScalarAsync<string>(ReadOwner));
        }
    }

    /// <summary>A connection that fails at once where it would otherwise wait for a lock.</summary>
    private static async Task<DbConnection> OpenWithoutWaitingAsync(PortalDatabase database)
    {
        var connection = await database.OpenAsync();
        await connection.ExecuteAsync(database.Sql(sqlite: "PRAGMA busy_timeout = 0", postgres: "SET lock_timeout = '100ms'"));
        return connection;
    }
}
