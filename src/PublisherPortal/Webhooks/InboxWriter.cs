using System.Threading.Channels;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Webhooks;

/// <summary>
/// Writes accepted deliveries to the inbox with group commit: one writer takes whatever deliveries are waiting,
/// inserts them in one transaction and commits once, then releases every request of the batch to answer 200.
/// Every 200 still follows its own committed row; under load many rows share one commit (and, on SQLite, one fsync —
/// the inbox commits with synchronous=FULL, so a 200 survives a power cut, not only a process crash), and writers
/// never queue on the database's write lock, whose busy-wait back-off was the cause of slow answers under load.
/// </summary>
public sealed partial class InboxWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly Channel<PendingWrite> _queue = Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly WebhookDeliveryStore _deliveries;
    private readonly PortalDatabase _database;
    private readonly ILogger<InboxWriter> _logger;
    private readonly Task _writer;

    public InboxWriter(WebhookDeliveryStore deliveries, PortalDatabase database, ILogger<InboxWriter> logger)
    {
        _deliveries = deliveries;
        _database = database;
        _logger = logger;
        _writer = Task.Run(WriteBatchesAsync);
    }

    /// <summary>Returns once the delivery is committed: Accepted (the operation's inbox entry) or Duplicate.</summary>
    public async Task<(string Result, long Id)> WriteAsync(NewDelivery delivery, CancellationToken ct = default)
    {
        var pending = new PendingWrite(delivery, new TaskCompletionSource<(string, long)>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, ct);
        // A caller that gives up (the marketplace hung up) does not take the write back: if it lands, the retry is a Duplicate.
        return await pending.Done.Task.WaitAsync(ct);
    }

    private async Task WriteBatchesAsync()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                var results = new List<(string, long)>(batch.Count);
                await using (var connection = await _database.OpenAsync())
                {
                    if (_database.IsSqlite)
                    {
                        await connection.ExecuteAsync("PRAGMA synchronous = FULL;");
                    }

                    await using var tx = await _database.BeginWriteAsync(connection);
                    foreach (var item in batch)
                    {
                        results.Add(await _deliveries.InsertAcceptedOrDuplicateAsync(item.Delivery, connection, tx));
                    }

                    await tx.CommitAsync();
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception e)
            {
                // Nothing of the batch was committed: every request answers 5xx and the marketplace delivers again.
                Log.BatchFailed(_logger, batch.Count, e);
                foreach (var item in batch)
                {
                    item.Done.TrySetException(e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }

    private sealed record PendingWrite(NewDelivery Delivery, TaskCompletionSource<(string, long)> Done);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Inbox batch of {Count} deliveries could not be committed")]
        public static partial void BatchFailed(ILogger logger, int count, Exception exception);
    }
}
