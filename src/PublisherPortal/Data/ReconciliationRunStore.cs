using Dapper;

namespace PublisherPortal.Data;

/// <summary>The summary of one reconciliation run, as operators see it.</summary>
public sealed record ReconciliationRun
{
    public long Id { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; init; }
    public string Trigger { get; init; } = "";
    public int Checked { get; init; }
    public int Corrected { get; init; }
    public int Added { get; init; }
    public int Skipped { get; init; }
    public int Failed { get; init; }
    public string Outcome { get; init; } = "";
    public string? Detail { get; init; }
}

/// <summary>The reconciliation_runs table (migration 0002).</summary>
public sealed class ReconciliationRunStore(PortalDatabase database)
{
    public async Task RecordAsync(ReconciliationRun run, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO reconciliation_runs (started_at, finished_at, trigger, checked, corrected, added, skipped, failed, outcome, detail)
            VALUES (@StartedAt, @FinishedAt, @Trigger, @Checked, @Corrected, @Added, @Skipped, @Failed, @Outcome, @Detail)
            """, run, cancellationToken: ct));
    }

    public async Task<ReconciliationRun?> LastAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<ReconciliationRun>(new CommandDefinition("""
            SELECT id, started_at, finished_at, trigger, checked, corrected, added, skipped, failed, outcome, detail
            FROM reconciliation_runs ORDER BY started_at DESC, id DESC LIMIT 1
            """, cancellationToken: ct));
    }
}
