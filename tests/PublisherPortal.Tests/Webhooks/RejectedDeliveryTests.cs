using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>
/// The webhook endpoint is open to anyone: what anonymous junk may cost. Over real loopback HTTP, on the test's
/// database (SQLite file or PostgreSQL), with tokens the emulator signs as Microsoft's side does.
/// </summary>
public sealed class RejectedDeliveryTests
{
    private static readonly Dictionary<string, string?> DoorOnly = new()
    {
        ["RunProcessor"] = "false",
        ["RunAcknowledgementSender"] = "false",
        ["RunOperationTracker"] = "false",
        ["RunRetention"] = "false",
    };

    [Fact]
    public async Task Many_anonymous_large_posts_grow_storage_by_a_bounded_amount()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(DoorOnly, receiveWebhooks: false);
        var junk = new string('x', 250_000);
        var before = await StorageBytesAsync(scenario.Database);

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 200; i++)
        {
            using var answer = await portal.PostAsync(junk, authorization: "Bearer not-a-token");
            answers.Add(answer.StatusCode);
        }

        var grown = await StorageBytesAsync(scenario.Database) - before;
        var tally = string.Join(", ", answers.CountBy(a => a).Select(c => $"{(int)c.Key}×{c.Value}"));
        Assert.True(answers.Count(a => a == HttpStatusCode.Unauthorized) == 20, tally);   // Webhooks:RejectedPerSource
        Assert.True(answers.Count(a => a == HttpStatusCode.TooManyRequests) == 180, tally);
        Assert.True(grown < 1024 * 1024, $"200 posts of 250 kB grew the database by {grown / 1024} KiB");

        var stored = await portal.DeliveriesAsync();
        Assert.True(stored.Count == 20, $"{stored.Count} deliveries stored");
        var one = stored[0];
        Assert.Equal((DeliveryResults.Unauthorized, 250_000L, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(junk)))),
            (one.Result, one.BodyBytes, one.BodySha256));
        Assert.Equal(junk[..BodyDigest.PrefixLength], one.Body);
        Assert.Contains("x-ms-requestid", one.Headers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_429_says_when_to_come_back_and_genuine_deliveries_never_spend_the_sources_allowance()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(
            new Dictionary<string, string?>(DoorOnly) { ["RejectedPerSource"] = "3", ["RejectedWindow"] = "00:10:00" }, receiveWebhooks: false);
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        scenario.Emulator.Options.WebhookUrl = null;
        var operationId = await scenario.Simulator.SuspendAsync(subscriptionId);
        var genuine = WebhookTestHost.DeliveryBody(scenario.Emulator, operationId);

        // Five genuine deliveries (one accepted, four repeats) from the same source as the junk to come.
        for (var i = 0; i < 5; i++)
        {
            using var answer = await portal.PostAsync(genuine, $"Bearer {await scenario.Simulator.MintWebhookTokenAsync()}");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        for (var i = 0; i < 3; i++)
        {
            using var refused = await portal.PostAsync("{}", authorization: null);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var limited = await portal.PostAsync("{}", authorization: null);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta is { } wait && wait > TimeSpan.Zero && wait <= TimeSpan.FromMinutes(10),
            $"Retry-After: {limited.Headers.RetryAfter}");
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Retention_prunes_refused_deliveries_and_old_processed_ones_and_keeps_pending_and_recent_ones()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(
            new Dictionary<string, string?>(DoorOnly) { ["RejectedRetention"] = "14.00:00:00", ["DeliveryRetention"] = "365.00:00:00" },
            receiveWebhooks: false);
        var now = DateTimeOffset.UtcNow;
        await using (var connection = await scenario.Database.OpenAsync())
        {
            foreach (var (label, result, state, age) in new (string, string, string?, TimeSpan)[]
            {
                ("old refused", DeliveryResults.Unauthorized, null, TimeSpan.FromDays(15)),
                ("old malformed", DeliveryResults.Malformed, null, TimeSpan.FromDays(15)),
                ("recent refused", DeliveryResults.Unauthorized, null, TimeSpan.FromDays(13)),
                ("old applied", DeliveryResults.Accepted, ProcessingStates.Applied, TimeSpan.FromDays(366)),
                ("old duplicate", DeliveryResults.Duplicate, null, TimeSpan.FromDays(366)),
                ("old but pending", DeliveryResults.Accepted, ProcessingStates.Pending, TimeSpan.FromDays(400)),
                ("applied this year", DeliveryResults.Accepted, ProcessingStates.Applied, TimeSpan.FromDays(300)),
            })
            {
                await connection.ExecuteAsync("""
                    INSERT INTO webhook_deliveries (received_at, operation_id, body, headers, result, processing_state, next_attempt_at)
                    VALUES (@at, @operation, @label, '{}', @result, @state, @at)
                    """, new { at = now - age, operation = result == DeliveryResults.Accepted ? Guid.NewGuid().ToString() : null, label, result, state });
            }
        }

        var retention = portal.Services.GetRequiredService<DeliveryRetention>();
        Assert.Equal(4, await retention.PruneAsync(now));
        Assert.Equal(0, await retention.PruneAsync(now));   // a second instance's round repeats a no-op

        var kept = (await portal.DeliveriesAsync()).Select(d => d.Body).Order().ToList();
        Assert.Equal(["applied this year", "old but pending", "recent refused"], kept);
    }

    [Fact]
    public async Task A_genuine_delivery_to_an_instance_that_can_no_longer_write_answers_503_so_the_marketplace_delivers_again()
    {
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(DoorOnly, receiveWebhooks: false,
            services: s => s.Configure<DatabaseOptions>(o => o.WriteProbeInterval = TimeSpan.FromMilliseconds(200)));
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator);
        scenario.Emulator.Options.WebhookUrl = null;
        var body = WebhookTestHost.DeliveryBody(scenario.Emulator, await scenario.Simulator.SuspendAsync(subscriptionId));

        if (scenario.Database.IsSqlite)
        {
            await using var connection = await scenario.Database.OpenAsync();
            foreach (var file in new[] { connection.DataSource, connection.DataSource + "-wal", connection.DataSource + "-shm" }.Where(File.Exists))
            {
                File.Delete(file);
            }
        }
        else
        {
            await using var connection = await scenario.Database.OpenAsync();
            await connection.ExecuteAsync($"ALTER DATABASE {connection.Database} SET default_transaction_read_only = on");
            await connection.ExecuteAsync(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
            Npgsql.NpgsqlConnection.ClearAllPools();
        }

        var answers = new List<HttpStatusCode>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5) && answers.LastOrDefault() != HttpStatusCode.ServiceUnavailable)
        {
            using var answer = await portal.PostAsync(body, $"Bearer {await scenario.Simulator.MintWebhookTokenAsync()}");
            answers.Add(answer.StatusCode);
            await Task.Delay(100);
        }

        Assert.True(answers.Last() == HttpStatusCode.ServiceUnavailable, $"answers within 5 s: {string.Join(", ", answers.Select(a => (int)a))}");
    }

    /// <summary>What the database takes on disk: the SQLite file and its WAL, or the table with its TOAST and indexes.</summary>
    private static async Task<long> StorageBytesAsync(PortalDatabase database)
    {
        await using var connection = await database.OpenAsync();
        if (database.IsSqlite)
        {
            var file = connection.DataSource;
            return new[] { file, file + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);
        }

        return await connection.ExecuteScalarAsync<long>("SELECT pg_total_relation_size('webhook_deliveries')");
    }
}
