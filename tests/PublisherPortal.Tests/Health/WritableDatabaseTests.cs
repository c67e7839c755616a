using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using PublisherPortal.Data;
using PublisherPortal.Health;
using PublisherPortal.Metering;
using PublisherPortal.Tests.Metering;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Health;

/// <summary>
/// Readiness and the usage intake over real loopback HTTP, on the test's database (SQLite file or PostgreSQL): when this
/// instance can no longer durably write — the SQLite file deleted or replaced under it, the database read-only — readiness
/// answers 503 and the intake 503 within seconds, instead of 200 for usage that would be gone after a restart.
/// </summary>
public sealed class WritableDatabaseTests : IAsyncLifetime
{
    private const string ApiKey = "test-product-key-0123456789";
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    private TestDatabase _db = null!;
    private IntakeHost _host = null!;
    private readonly Guid _subscription = Guid.NewGuid();
    private int _key;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await MeteringHarness.SeedPlansAsync(_db);
        await using var connection = await _db.Database.OpenAsync();
        await using var tx = await _db.Database.BeginWriteAsync(connection);
        await new SubscriptionStore(_db.Database, _db.Time)
            .RecordFromMarketplaceAsync(Samples.Subscription(_subscription, SubscriptionStatus.Subscribed, planId: "business"), connection, tx);
        await tx.CommitAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await _db.DisposeAsync();
    }

    private async Task StartAsync(PortalDatabase? database = null) =>
        _host = await IntakeHost.StartAsync(_db, new Dictionary<string, string?>
        {
            ["Portal:Mode"] = "Demo",
            ["Metering:ApiKeys:test-product"] = ApiKey,
        }, builder =>
        {
            if (database is not null)
            {
                builder.Services.AddSingleton(database);
            }

            builder.Services.AddWritableDatabaseCheck();
            builder.Services.Configure<DatabaseOptions>(o => o.WriteProbeInterval = ProbeInterval);
            builder.Services.AddHealthChecks().AddCheck<DatabaseReadyCheck>("database", HealthStatus.Unhealthy, [HealthExtensions.ReadyTag]);
        }, app => app.MapHealthEndpoints());

    private async Task<HttpStatusCode> ReportUsageAsync()
    {
        var body = JsonSerializer.Serialize(new
        {
            subscriptionId = _subscription,
            dimension = "reports-generated",
            quantity = 1,
            occurredAt = _db.Time.GetUtcNow().AddMinutes(-10).ToString("O"),
            idempotencyKey = $"k-{Interlocked.Increment(ref _key)}",
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/usage") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", ApiKey);
        using var response = await _host.Http.SendAsync(request);
        return response.StatusCode;
    }

    private async Task<(HttpStatusCode Status, string Body)> ReadinessAsync()
    {
        using var response = await _host.Http.GetAsync("/healthz/ready");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The monitor's clock is the test's: each tick is one probe; polled in real time until the intake refuses.</summary>
    private async Task<TimeSpan> IntakeRefusesWithinAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Within)
        {
            _db.Time.Advance(ProbeInterval);
            if (await ReportUsageAsync() == HttpStatusCode.ServiceUnavailable)
            {
                return clock.Elapsed;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"The usage intake still accepted reports {Within} after the database stopped taking writes.");
    }

    private async Task AssertHealthyFirstAsync()
    {
        Assert.Equal(HttpStatusCode.OK, await ReportUsageAsync());
        Assert.Equal(HttpStatusCode.OK, (await ReadinessAsync()).Status);
    }

    [Fact]
    public async Task A_deleted_sqlite_file_or_a_read_only_postgres_database_turns_intake_and_readiness_to_503()
    {
        await StartAsync();
        await AssertHealthyFirstAsync();

        if (TestDatabase.Provider == DatabaseProvider.Sqlite)
        {
            // As an operator's clean-up or a volume swap does it: the running instance keeps its open (now nameless) file.
            foreach (var file in new[] { _db.FilePath!, _db.FilePath + "-wal", _db.FilePath + "-shm" }.Where(File.Exists))
            {
                File.Delete(file);
            }
        }
        else
        {
            await MakePostgresReadOnlyAsync();
        }

        await IntakeRefusesWithinAsync();
        var (status, body) = await ReadinessAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains(TestDatabase.Provider == DatabaseProvider.Sqlite ? "deleted" : "read-only", body);
    }

    [SqliteOnlyFact]
    public async Task A_replaced_sqlite_file_turns_intake_and_readiness_to_503()
    {
        await StartAsync();
        await AssertHealthyFirstAsync();

        // A connection of this process open on the file, as the pool keeps them between requests (held here because
        // other tests clear every pool of the process at any moment), then a restore copies another database over
        // the path: same name, another file — the pool would go on writing into the one nobody reads.
        await using var pooled = await _db.Database.OpenAsync();
        var other = _db.FilePath + ".restored";
        File.Copy(_db.FilePath!, other);
        File.Move(other, _db.FilePath!, overwrite: true);

        await IntakeRefusesWithinAsync();
        var (status, body) = await ReadinessAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("replaced", body);
    }

    [Fact]
    public async Task A_read_only_database_is_not_ready_and_refuses_intake()
    {
        if (TestDatabase.Provider == DatabaseProvider.Sqlite)
        {
            await StartAsync(new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={_db.FilePath};Mode=ReadOnly"));
        }
        else
        {
            await MakePostgresReadOnlyAsync();
            await StartAsync();
        }

        var (status, body) = await ReadinessAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("read-only", body);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReportUsageAsync());
    }

    /// <summary>What a failover to a standby or an operator's switch does: every new session is read-only, old ones are cut.</summary>
    private async Task MakePostgresReadOnlyAsync()
    {
        await using var admin = new NpgsqlConnection(Environment.GetEnvironmentVariable("PORTAL_TEST_POSTGRES"));
        await admin.OpenAsync();
        await using (var readOnly = new NpgsqlCommand($"ALTER DATABASE {_db.PostgresName} SET default_transaction_read_only = on", admin))
        {
            await readOnly.ExecuteNonQueryAsync();
        }

        await using var cut = new NpgsqlCommand(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", admin);
        cut.Parameters.AddWithValue("name", _db.PostgresName!);
        await cut.ExecuteNonQueryAsync();
        NpgsqlConnection.ClearAllPools();
    }
}
