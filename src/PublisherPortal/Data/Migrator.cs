using System.Data.Common;
using System.Reflection;
using Dapper;

namespace PublisherPortal.Data;

/// <summary>
/// Applies the numbered SQL files under Data/Migrations/{provider} in order and records each by file name in
/// schema_migrations (by name, so features developed side by side may share a number without one hiding the other).
/// Safe to run twice and from several instances: PostgreSQL serialises start-ups with an advisory lock,
/// SQLite with its write lock (BEGIN IMMEDIATE).
/// </summary>
public sealed partial class Migrator(PortalDatabase database, TimeProvider time, ILogger<Migrator> logger)
{
    // Any fixed number works; it only has to be the same on every instance.
    private const long AdvisoryLockKey = 0x5075626C50727431;

    public async Task<int> ApplyAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        if (database.IsSqlite)
        {
            // WAL lets readers (pages) proceed while a writer (webhooks) commits.
            await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");
        }
        else
        {
            await connection.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = AdvisoryLockKey });
        }

        try
        {
            await connection.ExecuteAsync(database.Sql(
                sqlite: """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        name TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TEXT NOT NULL)
                    """,
                postgres: """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        name TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL)
                    """));

            var applied = 0;
            foreach (var (version, name, sql) in LoadScripts(database.Provider))
            {
                await using var tx = await database.BeginWriteAsync(connection, ct);
                var already = await connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM schema_migrations WHERE name = @name", new { name }, tx);
                if (already > 0)
                {
                    await tx.RollbackAsync(ct);
                    continue;
                }

                await connection.ExecuteAsync(sql, transaction: tx);
                await connection.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @appliedAt)",
                    new { version, name, appliedAt = time.GetUtcNow() }, tx);
                await tx.CommitAsync(ct);
                applied++;
                Log.Applied(logger, version, name);
            }

            return applied;
        }
        finally
        {
            if (!database.IsSqlite)
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey });
            }
        }
    }

    private static IEnumerable<(int Version, string Name, string Sql)> LoadScripts(DatabaseProvider provider)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"{typeof(Migrator).Namespace}.Migrations.{provider}.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[prefix.Length..];
                var version = int.Parse(file[..file.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return (version, file, reader.ReadToEnd());
            })
            .OrderBy(s => s.version)
            .ThenBy(s => s.file, StringComparer.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version} ({Name})")]
        public static partial void Applied(ILogger logger, int version, string name);
    }
}
