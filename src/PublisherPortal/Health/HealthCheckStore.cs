using System.Text.Json;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Health;

/// <summary>A check's state that has not been announced yet (to the log and the alert webhook).</summary>
public sealed record StateChange(string Key, HealthState From, HealthState To, string Figure);

/// <summary>
/// The health_checks table (migration 0004): the last result of every check, and the state last announced. Comparing
/// the two, rather than each run with the one before, is what makes an alert go out once per change of state — across
/// runs, restarts and instances.
/// </summary>
public sealed class HealthCheckStore(PortalDatabase database)
{
    /// <summary>
    /// Stores a result. A check seen for the first time counts as announced healthy, so a first result that is failing
    /// is announced like any other change.
    /// </summary>
    public async Task RecordAsync(CheckResult result, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO health_checks (check_key, state, figure, details, checked_at, changed_at, notified_state)
            VALUES (@key, @state, @figure, @details, @checkedAt, @checkedAt, @healthy)
            ON CONFLICT (check_key) DO UPDATE SET
                changed_at = CASE WHEN health_checks.state <> excluded.state THEN excluded.checked_at ELSE health_checks.changed_at END,
                state = excluded.state,
                figure = excluded.figure,
                details = excluded.details,
                checked_at = excluded.checked_at
            """, new
        {
            key = result.Key,
            state = result.State.ToString(),
            figure = result.Figure,
            details = JsonSerializer.Serialize(result.Details),
            checkedAt = result.CheckedAt,
            healthy = nameof(HealthState.Healthy),
        }, cancellationToken: ct));
    }

    /// <summary>Every stored result.</summary>
    public async Task<IReadOnlyList<StoredCheck>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<StoredCheck>(new CommandDefinition("""
            SELECT check_key, state, figure, details, checked_at, changed_at, notified_state FROM health_checks
            """, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// Takes the changes nobody has announced yet. Each is claimed with a conditional update, so when two instances look
    /// at once only one of them announces it.
    /// </summary>
    public async Task<IReadOnlyList<StateChange>> ClaimUnannouncedAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var candidates = await connection.QueryAsync<StoredCheck>(new CommandDefinition("""
            SELECT check_key, state, figure, details, checked_at, changed_at, notified_state
            FROM health_checks WHERE state <> notified_state
            """, cancellationToken: ct));
        var claimed = new List<StateChange>();
        foreach (var row in candidates)
        {
            var won = await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE health_checks SET notified_state = @state
                WHERE check_key = @key AND state = @state AND notified_state = @previous
                """, new { key = row.CheckKey, state = row.State, previous = row.NotifiedState }, cancellationToken: ct)) == 1;
            if (won)
            {
                claimed.Add(new StateChange(row.CheckKey, Parse(row.NotifiedState), Parse(row.State), row.Figure));
            }
        }

        return claimed;
    }

    /// <summary>An announcement that could not be delivered is given back, so the next run tries again.</summary>
    public async Task ReleaseAsync(StateChange change, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE health_checks SET notified_state = @previous WHERE check_key = @key AND notified_state = @state
            """, new { key = change.Key, previous = change.From.ToString(), state = change.To.ToString() }, cancellationToken: ct));
    }

    private static HealthState Parse(string value) =>
        Enum.TryParse<HealthState>(value, out var state) ? state : HealthState.Healthy;

    public sealed record StoredCheck
    {
        public string CheckKey { get; init; } = "";
        public string State { get; init; } = "";
        public string Figure { get; init; } = "";
        public string? Details { get; init; }
        public DateTimeOffset CheckedAt { get; init; }
        public DateTimeOffset ChangedAt { get; init; }
        public string NotifiedState { get; init; } = "";

        public HealthState HealthState => Parse(State);

        public IReadOnlyList<CheckDetail> DetailLines =>
            string.IsNullOrEmpty(Details) ? [] : JsonSerializer.Deserialize<List<CheckDetail>>(Details) ?? [];
    }
}
