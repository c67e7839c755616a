namespace PublisherPortal.Health;

/// <summary>A check as the page shows it: the stored result, or "not checked yet".</summary>
public sealed record CheckView(string Key, string Title, CheckResult? Last, DateTimeOffset? StateSince);

/// <summary>
/// Runs the integration checks, keeps their results, and announces each change of state once. The page, the banner,
/// the scheduled monitor and the self-test button all go through here.
/// </summary>
public sealed partial class IntegrationHealth(
    IEnumerable<IIntegrationCheck> checks,
    HealthCheckStore store,
    HealthAlerts alerts,
    WebhookSelfTest selfTest,
    TimeProvider time,
    ILogger<IntegrationHealth> logger)
{
    private readonly IReadOnlyList<IIntegrationCheck> _checks = [.. checks];

    public bool SelfTestUsesEmulator => selfTest.IsAvailable;

    /// <summary>Runs every check now, stores the results and announces what changed.</summary>
    public async Task<IReadOnlyList<CheckResult>> RunChecksAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var results = await Task.WhenAll(_checks.Select(check => RunOneAsync(check, now, ct)));
        foreach (var result in results)
        {
            await store.RecordAsync(result, ct);
        }

        await AnnounceChangesAsync(ct);
        return results;
    }

    /// <summary>The self-test button: the emulator's test delivery (demo mode), then every check.</summary>
    public async Task<(SelfTestOutcome SelfTest, IReadOnlyList<CheckResult> Checks)> RunSelfTestAsync(CancellationToken ct = default)
    {
        SelfTestOutcome outcome;
        try
        {
            outcome = await selfTest.RunAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            Log.SelfTestFailed(logger, e);
            outcome = new(HealthState.Failing, $"The self-test could not run: {e.GetType().Name}", [], time.GetUtcNow());
        }

        return (outcome, await RunChecksAsync(ct));
    }

    /// <summary>The last stored result of every check, in the page's order.</summary>
    public async Task<IReadOnlyList<CheckView>> LatestAsync(CancellationToken ct = default)
    {
        var stored = (await store.ListAsync(ct)).ToDictionary(s => s.CheckKey);
        return [.. _checks.Select(c => stored.TryGetValue(c.Key, out var s)
            ? new CheckView(c.Key, c.Title, new CheckResult(c.Key, c.Title, s.HealthState, s.Figure, s.CheckedAt, s.DetailLines), s.ChangedAt)
            : new CheckView(c.Key, c.Title, null, null))];
    }

    private async Task AnnounceChangesAsync(CancellationToken ct)
    {
        foreach (var change in await store.ClaimUnannouncedAsync(ct))
        {
            var title = _checks.FirstOrDefault(c => c.Key == change.Key)?.Title ?? change.Key;
            if (!await alerts.AnnounceAsync(change, title, ct))
            {
                await store.ReleaseAsync(change, ct);
            }
        }
    }

    private async Task<CheckResult> RunOneAsync(IIntegrationCheck check, DateTimeOffset now, CancellationToken ct)
    {
        try
        {
            return await check.RunAsync(now, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // A check that cannot look (database down, bad configuration) is itself something to act on.
            Log.CheckFailed(logger, check.Key, e);
            return CheckResult.Of(check, HealthState.Failing, $"The check could not run ({e.GetType().Name})", now);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Health check {Check} could not run")]
        public static partial void CheckFailed(ILogger logger, string check, Exception exception);

        [LoggerMessage(Level = LogLevel.Error, Message = "The webhook self-test could not run")]
        public static partial void SelfTestFailed(ILogger logger, Exception exception);
    }
}
