using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using PublisherPortal.Data;
using PublisherPortal.Finance;

// Export of 1,000,000 history rows against 10,000: the export streams, so peak memory must stay flat (ratio <= 1.5)
// while time grows with the rows. Each export runs in a child process of its own, so one run's heap and SQLite cache
// cannot flatter or spoil the other's peak working set.
//
//   dotnet run -c Release --project bench/FinanceBench                 -> seeds (once, cached in the temp folder) and compares
//   dotnet run -c Release --project bench/FinanceBench -- 10000 200000  -> other sizes
//   (child mode: FinanceBench export <database file>)

if (args is ["export", var databaseFile])
{
    await ExportOnceAsync(databaseFile);
    return 0;
}

var sizes = args.Length > 0 ? args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [10_000, 1_000_000];
var folder = Path.Combine(Path.GetTempPath(), "finance-bench");
Directory.CreateDirectory(folder);

var results = new List<Measurement>();
foreach (var rows in sizes)
{
    var file = Path.Combine(folder, $"history-{rows}.db");
    if (!File.Exists(file))
    {
        Console.WriteLine($"Seeding {rows:N0} history rows into {file} …");
        await SeedAsync(file, rows);
    }

    RunChild(file); // warm-up: file cache and JIT on disk paths, not measured
    var measured = RunChild(file);
    results.Add(measured);
    Console.WriteLine(measured);
}

if (results.Count >= 2)
{
    var small = results[0];
    var large = results[^1];
    var rowRatio = (double)large.Rows / small.Rows;
    Console.WriteLine();
    Console.WriteLine($"rows ratio           {rowRatio,10:N1}x");
    Console.WriteLine($"peak working set     {large.PeakWorkingSet / (double)small.PeakWorkingSet,10:N2}x  (must be <= 1.5)");
    Console.WriteLine($"time                 {large.Elapsed.TotalMilliseconds / small.Elapsed.TotalMilliseconds,10:N1}x  (linear would be {rowRatio:N0}x)");
    Console.WriteLine($"time per 1,000 rows  {PerThousand(small):N2} ms vs {PerThousand(large):N2} ms");
    Console.WriteLine($"allocated per row    {small.Allocated / (double)small.Rows:N0} B vs {large.Allocated / (double)large.Rows:N0} B");
}

return 0;

static double PerThousand(Measurement m) => m.Elapsed.TotalMilliseconds / m.Rows * 1000;

static Measurement RunChild(string databaseFile)
{
    var self = typeof(Measurement).Assembly.Location;
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
    {
        start.ArgumentList.Add(self);
    }

    start.ArgumentList.Add("export");
    start.ArgumentList.Add(databaseFile);
    using var child = Process.Start(start)!;
    var output = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    if (child.ExitCode != 0)
    {
        throw new InvalidOperationException($"The export child failed ({child.ExitCode}): {output}");
    }

    return Measurement.Parse(output.Trim().Split('\n')[^1]);
}

static async Task ExportOnceAsync(string databaseFile)
{
    var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={databaseFile}");
    var export = new FinanceCsvExport(new FinanceHistoryQuery(database), new PointInTimeQuery(database, TimeProvider.System));
    var sink = new CountingSink();
    var progress = new ExportProgress();
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var clock = Stopwatch.StartNew();
    await export.WriteHistoryAsync(sink, FinanceFilter.None, progress, CancellationToken.None);
    clock.Stop();
    var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
    using var self = Process.GetCurrentProcess();
    self.Refresh();
    Console.WriteLine(new Measurement(progress.Rows, sink.Bytes, clock.Elapsed, self.PeakWorkingSet64, allocated).ToLine());
}

static async Task SeedAsync(string file, int rows)
{
    var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={file}");
    await new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).ApplyAsync();
    await using var connection = (SqliteConnection)await database.OpenAsync();
    await using var tx = (SqliteTransaction)await database.BeginWriteAsync(connection);

    const int subscriptions = 1_000;
    var ids = Enumerable.Range(0, subscriptions).Select(i => new Guid(i, 0, 0, new byte[8]).ToString("D")).ToArray();
    var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    using (var insert = connection.CreateCommand())
    {
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT INTO subscriptions (id, name, publisher_id, offer_id, plan_id, quantity, status, beneficiary_email,
                                       beneficiary_tenant_id, first_seen_at, updated_at)
            VALUES ($id, $name, 'contoso-publisher', 'insights-saas', 'team', 5, 'Subscribed', $email, $tenant, $at, $at)
            """;
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var name = insert.Parameters.Add("$name", SqliteType.Text);
        var email = insert.Parameters.Add("$email", SqliteType.Text);
        var tenant = insert.Parameters.Add("$tenant", SqliteType.Text);
        insert.Parameters.AddWithValue("$at", FinanceCsvExport.Time(start));
        for (var i = 0; i < subscriptions; i++)
        {
            id.Value = ids[i];
            name.Value = $"Customer {i} analytics";
            email.Value = $"buyer{i}@customer{i % 97}.example";
            tenant.Value = Guid.NewGuid().ToString("D");
            await insert.ExecuteNonQueryAsync();
        }
    }

    using (var insert = connection.CreateCommand())
    {
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT INTO subscription_events (subscription_id, offer_id, occurred_at, kind, from_status, to_status, from_plan, to_plan,
                                             from_quantity, to_quantity, source, actor)
            VALUES ($sub, 'insights-saas', $at, 'QuantityChanged', 'Subscribed', 'Subscribed', 'team', 'team', $from, $to, 'customer', $actor)
            """;
        var sub = insert.Parameters.Add("$sub", SqliteType.Text);
        var at = insert.Parameters.Add("$at", SqliteType.Text);
        var from = insert.Parameters.Add("$from", SqliteType.Integer);
        var to = insert.Parameters.Add("$to", SqliteType.Integer);
        var actor = insert.Parameters.Add("$actor", SqliteType.Text);
        insert.Prepare();
        for (var i = 0; i < rows; i++)
        {
            sub.Value = ids[i % subscriptions];
            at.Value = FinanceCsvExport.Time(start.AddSeconds(i * 7));
            from.Value = 5 + i % 40;
            to.Value = 6 + i % 40;
            actor.Value = $"buyer{i % subscriptions}@customer{i % 97}.example";
            await insert.ExecuteNonQueryAsync();
        }
    }

    await tx.CommitAsync();
}

internal sealed record Measurement(long Rows, long Bytes, TimeSpan Elapsed, long PeakWorkingSet, long Allocated)
{
    public string ToLine() => string.Join(';', Rows, Bytes, Elapsed.Ticks, PeakWorkingSet, Allocated);

    public static Measurement Parse(string line)
    {
        var p = line.Split(';').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new Measurement(p[0], p[1], TimeSpan.FromTicks(p[2]), p[3], p[4]);
    }

    public override string ToString() =>
        $"{Rows,10:N0} rows  {Bytes / 1048576.0,8:N1} MiB csv  {Elapsed.TotalSeconds,8:N2} s  peak working set {PeakWorkingSet / 1048576.0,7:N1} MiB  allocated {Allocated / 1048576.0,9:N1} MiB";
}

/// <summary>Stands in for the response body: counts what it is given and keeps nothing.</summary>
internal sealed class CountingSink : Stream
{
    public long Bytes { get; private set; }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Bytes;
    public override long Position { get => Bytes; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Bytes += count;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Bytes += buffer.Length;
        return ValueTask.CompletedTask;
    }
}
