using System.Globalization;
using PublisherPortal.Data;
using PublisherPortal.Identity;

namespace PublisherPortal.Finance;

/// <summary>
/// The finance feature: read-only queries over the history, and CSV exports. Every endpoint here is a GET that
/// changes nothing but the audit log, so the Finance role has nothing it could change by calling them directly.
/// </summary>
public static partial class FinanceExtensions
{
    public const string HistoryExportPath = "/finance/export.csv";
    public const string PointInTimeExportPath = "/finance/point-in-time.csv";

    public static IHostApplicationBuilder AddFinance(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<FinanceHistoryQuery>();
        builder.Services.AddSingleton<PointInTimeQuery>();
        builder.Services.AddSingleton<FinanceSummaryQuery>();
        builder.Services.AddSingleton<FinanceCsvExport>();
        return builder;
    }

    public static IEndpointRouteBuilder MapFinanceEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(HistoryExportPath, ExportHistoryAsync).RequireAuthorization(Policies.Finance);
        app.MapGet(PointInTimeExportPath, ExportPointInTimeAsync).RequireAuthorization(Policies.Finance);
        return app;
    }

    private static Task ExportHistoryAsync(
        HttpContext http, FinanceCsvExport export, AuditLog audit, TimeProvider time, ILoggerFactory logs)
    {
        var filter = FinanceFilter.FromQuery(http.Request.Query);
        return StreamAuditedAsync(http, audit, time, logs, "FinanceHistoryExport", "subscription-history", filter.ToQueryString(),
            (body, progress, ct) => export.WriteHistoryAsync(body, filter, progress, ct));
    }

    private static Task ExportPointInTimeAsync(
        HttpContext http, FinanceCsvExport export, AuditLog audit, TimeProvider time, ILoggerFactory logs)
    {
        var request = PointInTimeAddress.Read(http.Request.Query, time.GetUtcNow());
        return StreamAuditedAsync(http, audit, time, logs, "FinancePointInTimeExport", "subscriptions-as-of",
            PointInTimeAddress.ToQueryString(request),
            (body, progress, ct) => export.WritePointInTimeAsync(body, request, progress, ct));
    }

    /// <summary>
    /// Streams one export and records it in the audit log with who asked, the filters and how many rows left,
    /// also when the download was abandoned or failed half way — finance must be able to tell what went out.
    /// </summary>
    internal static async Task StreamAuditedAsync(
        HttpContext http, AuditLog audit, TimeProvider time, ILoggerFactory logs, string action, string fileStem, string filters,
        Func<Stream, ExportProgress, CancellationToken, Task> write)
    {
        var actor = CurrentUser.From(http.User).Actor;
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileStem}-{stamp}.csv\"";
        http.Response.Headers.CacheControl = "no-store";

        var progress = new ExportProgress();
        var outcome = "Failed";
        try
        {
            await write(http.Response.Body, progress, http.RequestAborted);
            outcome = "Completed";
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            outcome = "Abandoned";
        }
        finally
        {
            var logger = logs.CreateLogger(typeof(FinanceExtensions).FullName!);
            Log.ExportEnded(logger, action, actor, progress.Rows, outcome);

            // Not the request's token: an abandoned download is still an export that must be on record.
            await audit.RecordAsync(actor, action, subscriptionId: null,
                detail: $"filters: {(filters.Length == 0 ? "(none)" : filters)}; rows: {progress.Rows}", outcome, CancellationToken.None);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "{Action} by {Actor}: {Rows} rows, {Outcome}")]
        public static partial void ExportEnded(ILogger logger, string action, string actor, long rows, string outcome);
    }
}
