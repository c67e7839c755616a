using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace PublisherPortal.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Opens connections to the portal's one database. A connection per call (pooled by the provider);
/// a unit of work that spans stores passes its transaction explicitly.
/// </summary>
public sealed class PortalDatabase
{
    private readonly string _connectionString;

    public PortalDatabase(DatabaseProvider provider, string connectionString)
    {
        Provider = provider;
        _connectionString = provider == DatabaseProvider.Sqlite
            ? new SqliteConnectionStringBuilder(connectionString) { ForeignKeys = true, Pooling = true }.ToString()
            : connectionString;
        DapperSetup.EnsureRegistered();
    }

    public DatabaseProvider Provider { get; }

    /// <summary>For the write probe, which must open the SQLite file afresh by its name (WritableDatabase).</summary>
    internal string ConnectionString => _connectionString;

    public bool IsSqlite => Provider == DatabaseProvider.Sqlite;

    /// <summary>Picks the dialect's text where SQLite and PostgreSQL differ; both stand side by side at the call site.</summary>
    public string Sql(string sqlite, string postgres) => IsSqlite ? sqlite : postgres;

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        DbConnection connection = IsSqlite ? new SqliteConnection(_connectionString) : new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(ct);
        if (IsSqlite)
        {
            // busy_timeout lets concurrent writers queue instead of failing with SQLITE_BUSY.
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;";
            await pragma.ExecuteNonQueryAsync(ct);
        }

        return connection;
    }

    /// <summary>
    /// Begins a write transaction. On SQLite it starts as IMMEDIATE so the write lock is taken up front:
    /// a read-then-write transaction that upgrades later can deadlock with another writer.
    /// </summary>
    public async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct = default)
    {
        if (connection is SqliteConnection sqlite)
        {
            return sqlite.BeginTransaction(deferred: false);
        }

        return await connection.BeginTransactionAsync(ct);
    }
}
