using System.Globalization;
using CsvHelper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Finance;

public sealed class FinanceCsvExportTests
{
    [Fact]
    public async Task The_history_export_holds_a_header_and_every_matching_change_row_by_row_oldest_first()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var s = await data.ResolveAsync(name: "Contoso, \"quoted\" analytics");
        db.Time.Advance(TimeSpan.FromHours(2.5));
        await data.ChangeAsync(s.Id, EventKinds.Activated, EventSources.Customer, "alice@contoso.example", status: SubscriptionStatus.Subscribed);
        db.Time.Advance(TimeSpan.FromMilliseconds(1234.5678));
        await data.ChangeAsync(s.Id, EventKinds.PlanChanged, EventSources.Marketplace, null, plan: "starter", quantity: null);
        var other = await data.ResolveAsync(offerId: "backup-saas");

        var (header, rows) = await ExportHistoryAsync(db, new FinanceFilter { OfferId = "insights-saas" });

        Assert.Equal(FinanceCsvExport.HistoryHeader, header);
        var expected = await data.Store.HistoryAsync(s.Id);
        Assert.Equal(expected.Count, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var e = expected[i];
            var r = rows[i];
            Assert.Equal(e.OccurredAt, DateTimeOffset.Parse(r["occurred_at_utc"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
            Assert.EndsWith("Z", r["occurred_at_utc"]);
            Assert.Equal(s.Id.ToString("D"), r["subscription_id"]);
            Assert.Equal("Contoso, \"quoted\" analytics", r["subscription_name"]);
            Assert.Equal(e.OfferId, r["offer_id"]);
            Assert.Equal(e.Kind, r["kind"]);
            Assert.Equal(e.FromStatus ?? "", r["from_status"]);
            Assert.Equal(e.ToStatus ?? "", r["to_status"]);
            Assert.Equal(e.FromPlan ?? "", r["from_plan"]);
            Assert.Equal(e.ToPlan ?? "", r["to_plan"]);
            Assert.Equal(e.FromQuantity?.ToString(CultureInfo.InvariantCulture) ?? "", r["from_quantity"]);
            Assert.Equal(e.ToQuantity?.ToString(CultureInfo.InvariantCulture) ?? "", r["to_quantity"]);
            Assert.Equal(e.Source, r["source"]);
            Assert.Equal(e.Actor ?? "", r["actor"]);
            Assert.Equal(e.Id.ToString(CultureInfo.InvariantCulture), r["event_id"]);
        }

        Assert.DoesNotContain(rows, r => r["subscription_id"] == other.Id.ToString("D"));
    }

    [Fact]
    public async Task A_name_that_looks_like_a_formula_is_escaped_for_spreadsheets()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new FinanceData(db).ResolveAsync(name: "=HYPERLINK(\"http://evil.example\")");

        var (_, rows) = await ExportHistoryAsync(db, FinanceFilter.None);

        Assert.StartsWith("'=", Assert.Single(rows)["subscription_name"]);
    }

    [Fact]
    public async Task The_export_reaches_the_destination_in_chunks_as_rows_are_read()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var s = await data.ResolveAsync();
        for (var i = 0; i < 3 * FinanceCsvExport.RowsPerChunk; i++)
        {
            await data.ChangeAsync(s.Id, EventKinds.QuantityChanged, quantity: i % 2 == 0 ? 7 : 8);
        }

        var destination = new RecordingStream();
        var progress = new ExportProgress();
        await Exporter(db).WriteHistoryAsync(destination, FinanceFilter.None, progress, CancellationToken.None);

        Assert.Equal(3 * FinanceCsvExport.RowsPerChunk + 1, progress.Rows);
        Assert.Equal(4, destination.Writes);
        Assert.True(destination.LargestWrite < 512 * 1024, $"largest single write was {destination.LargestWrite} bytes");
    }

    [Fact]
    public async Task The_point_in_time_export_holds_each_subscription_state_as_of_the_day()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var s = await data.ResolveAsync(planId: "team", quantity: 4);
        var endOfFirstDay = PointInTimeRequest.EndOf(DateOnly.FromDateTime(db.Time.GetUtcNow().UtcDateTime));
        db.Time.Advance(TimeSpan.FromDays(2));
        await data.ChangeAsync(s.Id, EventKinds.QuantityChanged, quantity: 9);

        using var buffer = new MemoryStream();
        await Exporter(db).WritePointInTimeAsync(buffer, new PointInTimeRequest(endOfFirstDay), new ExportProgress(), CancellationToken.None);
        var (header, rows) = Parse(buffer);

        Assert.Equal(FinanceCsvExport.PointInTimeHeader, header);
        var row = Assert.Single(rows);
        Assert.Equal(("2026-11-01T23:59:59.9999999Z", s.Id.ToString("D"), "PendingFulfillmentStart", "team", "4", "Resolved"),
            (row["as_of_utc"], row["subscription_id"], row["status"], row["plan_id"], row["quantity"], row["last_change_kind"]));
    }

    internal static FinanceCsvExport Exporter(TestDatabase db) =>
        new(new FinanceHistoryQuery(db.Database), new PointInTimeQuery(db.Database, db.Time));

    private static async Task<(string[] Header, List<Dictionary<string, string>> Rows)> ExportHistoryAsync(TestDatabase db, FinanceFilter filter)
    {
        using var buffer = new MemoryStream();
        await Exporter(db).WriteHistoryAsync(buffer, filter, new ExportProgress(), CancellationToken.None);
        return Parse(buffer);
    }

    internal static (string[] Header, List<Dictionary<string, string>> Rows) Parse(Stream csvStream)
    {
        csvStream.Position = 0;
        using var reader = new StreamReader(csvStream, leaveOpen: true);
        return Parse(reader);
    }

    internal static (string[] Header, List<Dictionary<string, string>> Rows) Parse(TextReader text)
    {
        using var csv = new CsvReader(text, CultureInfo.InvariantCulture);
        csv.Read();
        csv.ReadHeader();
        var header = csv.HeaderRecord!;
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            rows.Add(header.ToDictionary(h => h, h => csv.GetField(h)!));
        }

        return (header, rows);
    }

    /// <summary>Counts the writes an export makes, to show it streams in chunks rather than in one piece at the end.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly MemoryStream _received = new();

        public int Writes { get; private set; }
        public long LargestWrite { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _received.Length;
        public override long Position { get => _received.Length; set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            LargestWrite = Math.Max(LargestWrite, buffer.Length);
            _received.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Write(byte[] buffer, int offset, int count) =>
            throw new InvalidOperationException("The export must write asynchronously: Kestrel refuses synchronous writes.");

        public override void Flush() =>
            throw new InvalidOperationException("The export must flush asynchronously: Kestrel refuses synchronous writes.");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
