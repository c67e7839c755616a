using System.Runtime.InteropServices;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.BrowserTests.Lifecycle;

/// <summary>
/// An orchestrator stops a process with SIGTERM and kills it some seconds later (Kubernetes and App Service after 30 s,
/// docker after 10 s): both processes must be gone well before that, and a portal gives back what it had claimed so the
/// next instance takes the work at once. Real processes, built output, signals sent as the orchestrator sends them.
/// </summary>
public sealed class GracefulStopTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(25);

    [Theory]
    [InlineData(PosixSignal.SIGTERM)]
    [InlineData(PosixSignal.SIGINT)]
    public async Task The_standalone_emulator_stops_within_ten_seconds_of_a_stop_signal(PosixSignal signal)
    {
        var data = Path.Combine(Path.GetTempPath(), "portal-stop-tests", "emulator-" + Guid.NewGuid().ToString("N"));
        await using var emulator = await PortalProcess.StartStandaloneEmulatorAsync(data);

        var took = await emulator.SignalAndWaitForExitAsync(signal, Patience);

        Assert.True(took < Limit, $"The emulator took {(took is null ? "more than " + Patience : took)} to stop after {signal}:\n{emulator.Log}");
        TryDelete(data);
    }

    [Fact]
    public async Task The_demo_portal_with_its_emulator_stops_within_ten_seconds_and_gives_back_its_job_leases()
    {
        var contentRoot = Path.Combine(Path.GetTempPath(), "portal-stop-tests", Guid.NewGuid().ToString("N"));
        await using var portal = await PortalProcess.StartAsync(contentRoot, arguments:
            ["--Portal:EmulatorHttpsPort=0", "--Portal:EmulatorHttpPort=0"]);
        var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(contentRoot, "App_Data", "portal.db")}");
        var owner = await JobLeaseOwnerAsync(database, portal);

        var took = await portal.SignalAndWaitForExitAsync(PosixSignal.SIGTERM, Patience);

        Assert.True(took < Limit, $"The portal took {(took is null ? "more than " + Patience : took)} to stop after SIGTERM:\n{portal.Log}");
        await using var connection = await database.OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM job_leases WHERE owner = @owner", new { owner }));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TryDelete(contentRoot);
    }

    /// <summary>
    /// The instance's worker id, read from the job lease its health monitor takes at start (the first round runs at once).
    /// Polled: the lease is written moments after Kestrel listens.
    /// </summary>
    public static async Task<string> JobLeaseOwnerAsync(PortalDatabase database, PortalProcess portal)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var connection = await database.OpenAsync();
                if (await connection.ExecuteScalarAsync<string?>("SELECT owner FROM job_leases WHERE name = 'health-checks'") is { } owner)
                {
                    return owner;
                }
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException)
            {
                // Not migrated yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The portal took no job lease within a minute:\n{portal.Log}");
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner; no test depends on it.
        }
    }
}
