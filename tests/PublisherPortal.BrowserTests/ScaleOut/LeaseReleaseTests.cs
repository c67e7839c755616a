using System.Runtime.InteropServices;
using Dapper;
using PublisherPortal.BrowserTests.Lifecycle;

namespace PublisherPortal.BrowserTests.ScaleOut;

/// <summary>
/// An instance stopped with SIGTERM (a rolling deployment) gives back every row it had claimed, on PostgreSQL as
/// production runs it, so the instance that stays takes the work at once instead of after the lease.
/// </summary>
public sealed class LeaseReleaseTests
{
    [ScaleOutFact]
    public async Task An_instance_stopped_with_SIGTERM_gives_back_every_claim_within_ten_seconds()
    {
        await using var scenario = await ScaleOutScenario.StartAsync();
        var database = await scenario.CreateDatabaseAsync();
        var portal = await scenario.StartPortalAsync(database);
        var owner = await GracefulStopTests.JobLeaseOwnerAsync(database, portal);
        var subscription = (await scenario.ActiveSubscriptionAsync(database, "team", 5)).ToString();

        // Work this instance holds mid-round, as its workers leave it when a stop arrives between claim and finish.
        var now = DateTimeOffset.UtcNow;
        var held = new { owner, until = now.AddHours(1), now, subscription, operation = Guid.NewGuid().ToString() };
        await using (var connection = await database.OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO webhook_deliveries (received_at, body, headers, result, processing_state, next_attempt_at, lease_owner, lease_until)
                VALUES (@now, '{}', '{}', 'Accepted', 'Pending', @now, @owner, @until);
                INSERT INTO acknowledgements (subscription_id, operation_id, answer, created_at, due_by, state, next_attempt_at, lease_owner, lease_until)
                VALUES (@subscription, @operation, 'Success', @now, @now, 'Pending', @now, @owner, @until);
                INSERT INTO operations (id, subscription_id, action, status, source, requested_by, requested_at, location, correlation_id,
                                        next_poll_at, lease_owner, lease_until)
                VALUES (@operation, @subscription, 'ChangeQuantity', 'InProgress', 'operator', 'olivia', @now, 'https://marketplace.test/op',
                        @operation, @now, @owner, @until);
                INSERT INTO notification_outbox (dedupe_key, notification, event_kind, audience, recipients, subject, body, message_id,
                                                 state, next_attempt_at, created_at, lease_owner, lease_until)
                VALUES (@operation, 'Test', 'Test', 'customer', 'a@contoso.example', 's', 'b', @operation, 'Sending', @now, @now, @owner, @until);
                """, held);
        }

        var took = await portal.SignalAndWaitForExitAsync(PosixSignal.SIGTERM, TimeSpan.FromSeconds(25));

        Assert.True(took < TimeSpan.FromSeconds(10), $"The portal took {(took is null ? "more than 25 s" : took)} to stop:\n{portal.Log}");
        var stoppedAt = DateTimeOffset.UtcNow;
        await using var check = await database.OpenAsync();
        var stillHeld = new Dictionary<string, long>();
        foreach (var table in (string[])["webhook_deliveries", "acknowledgements", "operations", "notification_outbox"])
        {
            stillHeld[table] = await check.ExecuteScalarAsync<long>(
                $"SELECT COUNT(*) FROM {table} WHERE lease_owner = @owner AND lease_until > @stoppedAt", new { owner, stoppedAt });
        }

        stillHeld["job_leases"] = await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM job_leases WHERE owner = @owner", new { owner });
        Assert.All(stillHeld, t => Assert.True(t.Value == 0, $"{t.Key}: {t.Value} claims still held after the stop"));
    }
}
