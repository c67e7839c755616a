using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Support;

/// <summary>
/// A real, migrated database per test, removed afterwards: a SQLite file by default, or a fresh PostgreSQL database
/// when PORTAL_TEST_PROVIDER=Postgres (server from PORTAL_TEST_POSTGRES, an admin connection string).
/// The same tests run against both engines that way; .ci/run runs them twice.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string? _folder;
    private readonly string? _postgresName;

    private TestDatabase(PortalDatabase database, FakeTimeProvider time, string? folder, string? postgresName)
    {
        Database = database;
        Time = time;
        _folder = folder;
        _postgresName = postgresName;
    }

    public PortalDatabase Database { get; }
    public FakeTimeProvider Time { get; }

    /// <summary>The PostgreSQL database's name (null on SQLite).</summary>
    public string? PostgresName => _postgresName;

    /// <summary>The SQLite file (null on PostgreSQL).</summary>
    public string? FilePath => _folder is null ? null : Path.Combine(_folder, "portal.db");

    public static DatabaseProvider Provider =>
        string.Equals(Environment.GetEnvironmentVariable("PORTAL_TEST_PROVIDER"), "Postgres", StringComparison.OrdinalIgnoreCase)
            ? DatabaseProvider.Postgres
            : DatabaseProvider.Sqlite;

    /// <summary>A migrated database on the engine the test run is for, or on <paramref name="provider"/> when a test needs both.</summary>
    public static async Task<TestDatabase> CreateAsync(DatabaseProvider? provider = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero));
        TestDatabase db;
        if ((provider ?? Provider) == DatabaseProvider.Postgres)
        {
            var admin = Environment.GetEnvironmentVariable("PORTAL_TEST_POSTGRES")
                ?? throw new InvalidOperationException("PORTAL_TEST_PROVIDER=Postgres needs PORTAL_TEST_POSTGRES (an admin connection string).");
            var name = "portal_t_" + Guid.NewGuid().ToString("N");
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
                await create.ExecuteNonQueryAsync();
            }

            var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
            db = new TestDatabase(new PortalDatabase(DatabaseProvider.Postgres, builder.ToString()), time, null, name);
        }
        else
        {
            var folder = Path.Combine(Path.GetTempPath(), "portal-tests", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            db = new TestDatabase(new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(folder, "portal.db")}"), time, folder, null);
        }

        await db.CreateMigrator().ApplyAsync();
        return db;
    }

    public Migrator CreateMigrator() => new(Database, Time, NullLogger<Migrator>.Instance);

    public async ValueTask DisposeAsync()
    {
        if (_postgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            var admin = Environment.GetEnvironmentVariable("PORTAL_TEST_POSTGRES")!;
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_postgresName} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
            return;
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder!, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left for the OS temp cleaner; the test's result does not depend on it.
        }
    }
}
