using System.Globalization;
using Dapper;
using Marketplace.Emulator;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PublisherPortal.Data;

/// <summary>
/// `--scaleout`: webhook ingestion (JWT validation + inbox row committed before the 200) on SQLite with one instance,
/// and on PostgreSQL with one and with two instances sharing one database, in the same run and with the same client.
/// The instances are separate Kestrel hosts with their own services in this process: on one machine they share its
/// cores either way, so two instances show what the shared database does to ingestion, not a second machine's CPU.
/// PostgreSQL: --postgres "admin connection string" or PORTAL_TEST_POSTGRES; a fresh database is made and dropped.
/// </summary>
internal static class ScaleOutBench
{
    public static async Task<int> RunAsync(RunningEmulator emulator, BenchSettings settings, string[] args)
    {
        var index = Array.IndexOf(args, "--postgres");
        var admin = index >= 0 && index + 1 < args.Length ? args[index + 1] : Environment.GetEnvironmentVariable("PORTAL_TEST_POSTGRES")
            ?? throw new InvalidOperationException("--scaleout needs PostgreSQL: --postgres \"Host=…;Username=…;Password=…;Database=postgres\" or PORTAL_TEST_POSTGRES.");
        var duration = TimeSpan.FromSeconds(settings.Seconds);
        Console.WriteLine($"Scale-out ingestion — closed loop {settings.Concurrency} in flight for {settings.Seconds}s per run, {Environment.ProcessorCount} cores");

        var folder = Path.Combine(Path.GetTempPath(), "webhook-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var sqlite = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(folder, "portal.db")}");
        var name = "webhook_bench_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync($"CREATE DATABASE {name}");
        }

        var postgres = new PortalDatabase(DatabaseProvider.Postgres, new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString());
        var results = new List<(string Name, RunResult Result, int Missing)>();
        try
        {
            foreach (var database in new[] { sqlite, postgres })
            {
                await new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).ApplyAsync();
            }

            var token = await emulator.Simulator.MintWebhookTokenAsync();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
            foreach (var (label, database, instances) in new[] { ("SQLite, 1 instance", sqlite, 1), ("PostgreSQL, 1 instance", postgres, 1), ("PostgreSQL, 2 instances", postgres, 2) })
            {
                var hosts = new List<BenchHost>();
                for (var i = 0; i < instances; i++)
                {
                    hosts.Add(await Hosts.StartIngestionAsync(emulator, database));
                }

                var targets = hosts.Select(h => h.WebhookUri).ToArray();
                var load = new LoadGenerator(http, token);
                await load.ClosedLoopAsync(targets, 8, TimeSpan.FromSeconds(2)); // warm-up: JIT, pools, signing keys
                var result = await load.ClosedLoopAsync(targets, settings.Concurrency, duration);
                results.Add((label, result, await MissingAsync(database, targets.SelectMany(load.AcceptedOperations))));
                foreach (var host in hosts)
                {
                    await host.DisposeAsync();
                }
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await connection.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            Directory.Delete(folder, recursive: true);
        }

        Console.WriteLine();
        Console.WriteLine("| store, instances | requests | 200s | throughput (req/s) | p50 (ms) | p99 (ms) | max (ms) | answered 200 but not stored |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (label, r, missing) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {r.Sent} | {r.Ok} | {r.Throughput:F0} | {r.Percentile(0.50):F2} | {r.Percentile(0.99):F2} | {r.Percentile(1):F2} | {missing} |"));
        }

        return results.All(r => r.Missing == 0 && r.Result.Ok == r.Result.Sent) ? 0 : 1;
    }

    /// <summary>Every 200 must be a committed row.</summary>
    private static async Task<int> MissingAsync(PortalDatabase database, IEnumerable<Guid> answered)
    {
        await using var connection = await database.OpenAsync();
        var stored = (await connection.QueryAsync<string>("SELECT operation_id FROM webhook_deliveries WHERE result = 'Accepted'"))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        return answered.Count(id => !stored.Contains(id.ToString("D")));
    }
}
