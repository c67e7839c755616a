using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using PublisherPortal.Data;

namespace PublisherPortal.Finance;

/// <summary>How far an export got; read after it ends, however it ended, so the audit log can name the row count.</summary>
public sealed class ExportProgress
{
    public long Rows { get; internal set; }
}

/// <summary>
/// Writes finance views as CSV to a stream as the rows arrive from the database. Rows are gathered into a small chunk
/// in memory and copied to the destination asynchronously every <see cref="RowsPerChunk"/> rows: memory stays the same
/// for ten thousand rows or ten million, and the response body is never written synchronously (Kestrel forbids it).
/// </summary>
public sealed class FinanceCsvExport(FinanceHistoryQuery history, PointInTimeQuery pointInTime)
{
    public const int RowsPerChunk = 1_000;

    public static readonly string[] HistoryHeader =
    [
        "occurred_at_utc", "subscription_id", "subscription_name", "offer_id", "kind",
        "from_status", "to_status", "from_plan", "to_plan", "from_quantity", "to_quantity",
        "source", "actor", "operation_id", "detail", "event_id",
    ];

    public static readonly string[] PointInTimeHeader =
    [
        "as_of_utc", "subscription_id", "subscription_name", "offer_id", "status", "plan_id", "quantity",
        "last_change_utc", "last_change_kind",
    ];

    public Task WriteHistoryAsync(Stream destination, FinanceFilter filter, ExportProgress progress, CancellationToken ct) =>
        WriteAsync(destination, HistoryHeader, history.StreamAsync(filter, ct), (csv, r) =>
        {
            csv.WriteField(Time(r.OccurredAt));
            csv.WriteField(r.SubscriptionId.ToString("D"));
            csv.WriteField(r.SubscriptionName);
            csv.WriteField(r.OfferId);
            csv.WriteField(r.Kind);
            csv.WriteField(r.FromStatus);
            csv.WriteField(r.ToStatus);
            csv.WriteField(r.FromPlan);
            csv.WriteField(r.ToPlan);
            csv.WriteField(Number(r.FromQuantity));
            csv.WriteField(Number(r.ToQuantity));
            csv.WriteField(r.Source);
            csv.WriteField(r.Actor);
            csv.WriteField(r.OperationId?.ToString("D"));
            csv.WriteField(r.Detail);
            csv.WriteField(r.Id.ToString(CultureInfo.InvariantCulture));
        }, progress, ct);

    public Task WritePointInTimeAsync(Stream destination, PointInTimeRequest request, ExportProgress progress, CancellationToken ct)
    {
        var asOf = Time(request.AsOf);
        return WriteAsync(destination, PointInTimeHeader, pointInTime.StreamAsync(request, ct), (csv, r) =>
        {
            csv.WriteField(asOf);
            csv.WriteField(r.SubscriptionId.ToString("D"));
            csv.WriteField(r.SubscriptionName);
            csv.WriteField(r.OfferId);
            csv.WriteField(r.Status);
            csv.WriteField(r.PlanId);
            csv.WriteField(Number(r.Quantity));
            csv.WriteField(Time(r.LastChangeAt));
            csv.WriteField(r.LastChangeKind);
        }, progress, ct);
    }

    /// <summary>ISO-8601 in UTC with a 'Z', to the tick the database keeps, so sorting the text sorts by time.</summary>
    public static string Time(DateTimeOffset value) => DapperSetup.FormatTime(value);

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    internal static async Task WriteAsync<T>(
        Stream destination, string[] header, IAsyncEnumerable<T> rows, Action<CsvWriter, T> writeRow,
        ExportProgress progress, CancellationToken ct)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            // Names and actors come from customers; a cell starting with '=' must not become a formula in a spreadsheet.
            InjectionOptions = InjectionOptions.Escape,
        };

        using var chunk = new MemoryStream(capacity: 256 * 1024);
        await using var text = new StreamWriter(chunk, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
        await using var csv = new CsvWriter(text, config, leaveOpen: true);

        foreach (var name in header)
        {
            csv.WriteField(name);
        }

        await csv.NextRecordAsync();
        await foreach (var row in rows.WithCancellation(ct))
        {
            writeRow(csv, row);
            await csv.NextRecordAsync();
            progress.Rows++;
            if (progress.Rows % RowsPerChunk == 0)
            {
                await DrainAsync(csv, text, chunk, destination, ct);
            }
        }

        await DrainAsync(csv, text, chunk, destination, ct);
    }

    /// <summary>Moves what is gathered in memory to the destination and empties the chunk.</summary>
    private static async Task DrainAsync(CsvWriter csv, StreamWriter text, MemoryStream chunk, Stream destination, CancellationToken ct)
    {
        await csv.FlushAsync();
        await text.FlushAsync(ct);
        if (chunk.Length > 0)
        {
            await destination.WriteAsync(chunk.GetBuffer().AsMemory(0, (int)chunk.Length), ct);
            chunk.SetLength(0);
        }

        // Flushing lets the browser see the download progress instead of waiting for the whole file.
        await destination.FlushAsync(ct);
    }
}
