using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Support;

/// <summary>A real SQLite file per test, migrated, deleted afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _folder;

    private TestDatabase(string folder, PortalDatabase database, FakeTimeProvider time)
    {
        _folder = folder;
        Database = database;
        Time = time;
    }

    public PortalDatabase Database { get; }
    public FakeTimeProvider Time { get; }
    public string FilePath => Path.Combine(_folder, "portal.db");

    public static async Task<TestDatabase> CreateAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "portal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(folder, "portal.db")}");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero));
        await new Migrator(database, time, NullLogger<Migrator>.Instance).ApplyAsync();
        return new TestDatabase(folder, database, time);
    }

    public Migrator CreateMigrator() => new(Database, Time, NullLogger<Migrator>.Instance);

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left for the OS temp cleaner; the test's result does not depend on it.
        }

        return ValueTask.CompletedTask;
    }
}
