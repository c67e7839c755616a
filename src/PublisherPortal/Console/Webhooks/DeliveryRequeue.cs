using Dapper;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Console;

/// <summary>
/// "Process again" for a webhook delivery whose processing failed: it goes back into the inbox queue as Pending and the
/// processor is woken. Only Failed ones: an Applied delivery run twice would apply twice, and a rejected one was never ours.
/// </summary>
public sealed class DeliveryRequeue(PortalDatabase database, WorkSignals signals, TimeProvider time)
{
    public async Task<bool> RequeueFailedAsync(long deliveryId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_deliveries
            SET processing_state = @pending, next_attempt_at = @now, lease_owner = NULL, lease_until = NULL,
                process_detail = 'queued again by an operator'
            WHERE id = @deliveryId AND result = @accepted AND processing_state = @failed
            """,
            new
            {
                deliveryId,
                now = time.GetUtcNow(),
                pending = ProcessingStates.Pending,
                accepted = DeliveryResults.Accepted,
                failed = ProcessingStates.Failed,
            }, cancellationToken: ct));
        if (rows == 1)
        {
            signals.Deliveries.Notify();
        }

        return rows == 1;
    }
}
