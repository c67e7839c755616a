using System.Threading.Channels;

namespace PublisherPortal.Webhooks;

/// <summary>
/// Wakes a background worker as soon as there is work for it (a delivery committed, an acknowledgement queued), with a
/// periodic fallback for work this instance did not write itself. The marketplace's 10 seconds for an acknowledgement
/// (docs/marketplace.md#answering-deliveries) leave no room for waiting out a polling interval.
/// </summary>
public sealed class WorkSignal
{
    private readonly Channel<bool> _pending = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Any number of calls before the worker wakes collapse into one wake-up.</summary>
    public void Notify() => _pending.Writer.TryWrite(true);

    /// <summary>Returns when notified or when <paramref name="fallback"/> has passed on <paramref name="time"/>.</summary>
    public async Task WaitAsync(TimeSpan fallback, TimeProvider time, CancellationToken ct)
    {
        if (_pending.Reader.TryRead(out _))
        {
            return;
        }

        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var signalled = _pending.Reader.WaitToReadAsync(either.Token).AsTask();
        var elapsed = Task.Delay(fallback, time, either.Token);
        await Task.WhenAny(signalled, elapsed).ConfigureAwait(false);
        await either.CancelAsync().ConfigureAwait(false);
        _pending.Reader.TryRead(out _);
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// The loop every queue worker runs: handle a round; while rounds find work, go straight on; when one finds none,
    /// sleep until notified or <paramref name="fallback"/> passes. A failed round is reported and the loop carries on,
    /// because the work stays in the database for the next one.
    /// </summary>
    public async Task RunRoundsAsync(
        Func<CancellationToken, Task<int>> round, Action<Exception> roundFailed, TimeSpan fallback, TimeProvider time, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var handled = 0;
            try
            {
                handled = await round(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                roundFailed(e);
            }

            if (handled == 0)
            {
                try
                {
                    await WaitAsync(fallback, time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>The signals of this instance's workers, one per queue.</summary>
public sealed class WorkSignals
{
    public WorkSignal Deliveries { get; } = new();
    public WorkSignal Acknowledgements { get; } = new();
    public WorkSignal Operations { get; } = new();
}

/// <summary>Who holds a lease: one value per running instance (per service provider), readable in the database.</summary>
public sealed class WorkerIdentity
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}

/// <summary>Exponential back-off with a little jitter, so retries of many rows do not arrive together.</summary>
/// <summary>The wait between rounds of a scheduled job (reconciliation, health checks).</summary>
public static class ScheduledRounds
{
    /// <summary>True at the next tick; false once the host stops, so a job's loop ends instead of throwing.</summary>
    public static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

public static class Backoff
{
    public static TimeSpan For(int attempt, TimeSpan baseDelay, TimeSpan max)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var ticks = Math.Min(max.Ticks, baseDelay.Ticks * (double)(1L << exponent));
        var jitter = 0.9 + (Random.Shared.NextDouble() * 0.2);
        return TimeSpan.FromTicks((long)Math.Min(max.Ticks, ticks * jitter));
    }
}
