using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Data;

/// <summary>What the last write probe found: whether this instance's writes land where every reader looks.</summary>
public sealed record WriteProbe(bool Writable, string Detail, DateTimeOffset At);

/// <summary>
/// Whether this instance can durably write where it believes it writes. A reachable database is not enough: a SQLite
/// file deleted or replaced under a running instance still takes every write (into the open, unlinked file, gone at
/// the next start), and a read-only database or a PostgreSQL standby answers reads. Each probe writes this instance's
/// row in write_probes and then proves it landed: on SQLite by reading it back through a fresh, unpooled, read-only
/// connection to the path on disk (a deleted file cannot be opened, a replaced one does not hold the row); on
/// PostgreSQL by asking whether the server is in recovery or the session read-only before writing.
/// Readiness runs a probe per request; the intake endpoints read <see cref="Last"/>, kept fresh by
/// <see cref="WritableDatabaseMonitor"/>, and answer 503 while it says no, so the sender retries instead of believing
/// a 200 for data that will not survive.
/// </summary>
public sealed partial class WritableDatabase(PortalDatabase database, WorkerIdentity worker, TimeProvider time, ILogger<WritableDatabase> logger)
{
    private volatile WriteProbe? _last;

    /// <summary>The latest probe, or null before the first.</summary>
    public WriteProbe? Last => _last;

    public async Task<WriteProbe> ProbeAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var token = Guid.NewGuid().ToString("N");
        string? refusal;
        try
        {
            refusal = database.IsSqlite ? await ProbeSqliteAsync(token, now, ct) : await ProbePostgresAsync(token, now, ct);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or IOException)
        {
            refusal = e is SqliteException { SqliteErrorCode: 8 } or PostgresException { SqlState: "25006" }
                ? "database is read-only"
                : "database unreachable or refusing writes";
        }

        var probe = new WriteProbe(refusal is null, refusal ?? "database writable", now);
        var previous = _last;
        _last = probe;
        if (previous?.Writable != probe.Writable)
        {
            if (probe.Writable)
            {
                LogWritable(logger);
            }
            else
            {
                LogNotWritable(logger, probe.Detail);
            }
        }

        return probe;
    }

    private async Task<string?> ProbeSqliteAsync(string token, DateTimeOffset now, CancellationToken ct)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            await WriteProbeRowAsync(connection, token, now, ct);
        }

        // The pooled connections keep the file they opened, whatever became of its name: look at the name afresh.
        var onDisk = new SqliteConnectionStringBuilder(database.ConnectionString) { Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        if (onDisk.DataSource is not { Length: > 0 } path || path == ":memory:")
        {
            return null;
        }

        path = Path.GetFullPath(path);
        if (!File.Exists(path))
        {
            return "database file deleted";
        }

        // Linux names every file a process holds open; one whose name was deleted, or renamed over (a restore that
        // copies another database onto the path), shows as "… (deleted)". Its writes reach no one and vanish at exit.
        // Checked for the WAL too: SQLite keeps the newest pages there, shared by name with whatever file now has it.
        if (OpenButUnlinked(path) is { } unlinked)
        {
            return $"database file replaced or deleted under the running instance ({Path.GetFileName(unlinked)})";
        }

        await using var fresh = new SqliteConnection(onDisk.ToString());
        try
        {
            await fresh.OpenAsync(ct);
            var found = await fresh.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT token FROM write_probes WHERE instance = @instance", new { instance = worker.Id }, cancellationToken: ct));
            return found == token ? null : "database file replaced: this instance writes to a file no one else reads";
        }
        catch (SqliteException e) when (e.SqliteErrorCode != 5)   // SQLITE_BUSY only means "not now"
        {
            return "database file replaced: this instance writes to a file no one else reads";
        }
    }

    /// <summary>The database file or its WAL as this process holds it open after its name went away, or null (also off Linux).</summary>
    private static string? OpenButUnlinked(string path)
    {
        const string descriptors = "/proc/self/fd";
        if (!Directory.Exists(descriptors))
        {
            return null;
        }

        string[] gone = [path + " (deleted)", path + "-wal (deleted)"];
        foreach (var descriptor in Directory.EnumerateFileSystemEntries(descriptors))
        {
            try
            {
                if (new FileInfo(descriptor).LinkTarget is { } target && gone.Contains(target, StringComparer.Ordinal))
                {
                    return target;
                }
            }
            catch (IOException)
            {
                // Closed while we looked: not ours to judge.
            }
        }

        return null;
    }

    private async Task<string?> ProbePostgresAsync(string token, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);

        // A standby after a failover, or a database set read-only, answers reads but refuses every write.
        var (inRecovery, readOnly) = await connection.QuerySingleAsync<(bool, string)>(new CommandDefinition(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')", cancellationToken: ct));
        if (inRecovery)
        {
            return "database server is in recovery (a standby)";
        }

        if (readOnly == "on")
        {
            return "database is read-only";
        }

        await WriteProbeRowAsync(connection, token, now, ct);
        return null;
    }

    private async Task WriteProbeRowAsync(DbConnection connection, string token, DateTimeOffset now, CancellationToken ct)
    {
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO write_probes (instance, token, written_at) VALUES (@instance, @token, @now)
            ON CONFLICT (instance) DO UPDATE SET token = excluded.token, written_at = excluded.written_at
            """, new { instance = worker.Id, token, now }, tx, cancellationToken: ct));

        // Rows of instances long gone (each start is a new instance).
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM write_probes WHERE written_at < @cutoff", new { cutoff = now.AddDays(-1) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "This instance cannot durably write its database ({Detail}): readiness and the intake endpoints answer 503 until it can")]
    private static partial void LogNotWritable(ILogger logger, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "The database takes this instance's writes")]
    private static partial void LogWritable(ILogger logger);
}

/// <summary>Probes every Database:WriteProbeInterval, so the intake endpoints stop answering 200 within seconds.</summary>
public sealed class WritableDatabaseMonitor(WritableDatabase writable, IOptions<DatabaseOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WriteProbeInterval, time);
        do
        {
            await writable.ProbeAsync(stoppingToken);
        }
        while (await ScheduledRounds.NextTickAsync(timer, stoppingToken));
    }
}

public static class WritableDatabaseEndpoints
{
    /// <summary>
    /// Answers 503 (with Retry-After) instead of running the endpoint while the last write probe failed: a sender that
    /// gets 200 for data this instance cannot keep loses it, one that gets 503 sends it again to an instance that can.
    /// </summary>
    public static TBuilder RequireWritableDatabase<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var writable = context.HttpContext.RequestServices.GetRequiredService<WritableDatabase>();
            if (writable.Last is { Writable: false } probe)
            {
                context.HttpContext.Response.Headers.RetryAfter = "30";
                return Results.Problem(
                    title: "Storage unavailable",
                    detail: $"This instance cannot store data right now ({probe.Detail}). Send it again later.",
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return await next(context);
        });
}
