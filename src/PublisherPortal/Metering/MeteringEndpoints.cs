using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using CsvHelper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Identity;

namespace PublisherPortal.Metering;

public static class MeteringEndpoints
{
    public const string IntakePolicy = "MeteringIntake";

    /// <summary>POST /api/usage and /api/usage/batch (the product's intake) and GET /finance/usage.csv (billed usage for finance).</summary>
    public static IEndpointRouteBuilder MapMeteringEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/usage", ReportUsageAsync)
            .RequireAuthorization(IntakePolicy)
            .DisableAntiforgery()
            .RequireWritableDatabase()
            .WithName("ReportUsage");

        app.MapPost("/api/usage/batch", ReportUsageBatchAsync)
            .RequireAuthorization(IntakePolicy)
            .DisableAntiforgery()
            .RequireWritableDatabase()
            .WithName("ReportUsageBatch");

        app.MapGet("/finance/usage.csv", ExportBilledUsageAsync)
            .RequireAuthorization(Policies.Finance);

        return app;
    }

    private static async Task<IResult> ReportUsageAsync(HttpRequest request, ClaimsPrincipal caller, UsageIntake intake, CancellationToken ct)
    {
        // One report is a few hundred bytes; the batch's limit applies too, or Kestrel's 30 MB default would be read and parsed.
        if (LimitBody(request) is { } tooLarge)
        {
            return tooLarge;
        }

        var (report, unreadable) = await ReadAsync<UsageReport>(request, "The usage report could not be read.", ct);
        if (unreadable is not null)
        {
            return unreadable;
        }

        // An Idempotency-Key header is accepted too, as many HTTP clients set one by themselves.
        if (report is not null && string.IsNullOrWhiteSpace(report.IdempotencyKey)
            && request.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 } headerKey)
        {
            report = report with { IdempotencyKey = headerKey };
        }

        var source = caller.FindFirstValue(MeteringAuthentication.SourceClaim) ?? "unknown";
        var outcome = await intake.RecordAsync(source, report ?? new UsageReport(), ct);
        return outcome switch
        {
            IntakeOutcome.Recorded r => Results.Ok(r.Receipt),
            IntakeOutcome.AlreadyRecorded r => Replayed(request.HttpContext, r.Receipt),
            IntakeOutcome.Invalid i => Results.ValidationProblem(i.Errors, title: "The usage report is not valid."),
            IntakeOutcome.KeyReused k => Results.Problem(
                title: "Idempotency key already used for other usage.",
                detail: $"Key '{report!.IdempotencyKey}' recorded usage {k.Original.RecordId} with other content; nothing was changed. Use a new key for new usage.",
                statusCode: StatusCodes.Status409Conflict),
            _ => throw new InvalidOperationException("Unknown intake outcome."),
        };
    }

    /// <summary>
    /// Up to <see cref="UsageIntake.MaxBatchSize"/> reports in one request and one transaction. The answer is 200 with
    /// one result per report, in order, as the marketplace's own batch API does: a bad report is refused on its own line.
    /// </summary>
    private static async Task<IResult> ReportUsageBatchAsync(HttpRequest request, ClaimsPrincipal caller, UsageIntake intake, CancellationToken ct)
    {
        // A full batch is about 150 KB; far more than that is refused before it is read, not parsed and then refused.
        if (LimitBody(request) is { } tooLarge)
        {
            return tooLarge;
        }

        var (batch, unreadable) = await ReadAsync<UsageBatch>(request, "The usage batch could not be read.", ct);
        if (unreadable is not null)
        {
            return unreadable;
        }

        if (batch?.Reports is not { Count: > 0 } reports)
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { ["reports"] = ["Required: a list of 1 to " + UsageIntake.MaxBatchSize + " usage reports."] },
                title: "The usage batch is empty.");
        }

        if (reports.Count > UsageIntake.MaxBatchSize)
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { ["reports"] = [$"At most {UsageIntake.MaxBatchSize} reports per batch; this one has {reports.Count}. Nothing was recorded."] },
                title: "The usage batch is too large.");
        }

        var source = caller.FindFirstValue(MeteringAuthentication.SourceClaim) ?? "unknown";
        var outcomes = await intake.RecordBatchAsync(source, reports.Select(r => r ?? new UsageReport()).ToList(), ct);
        return Results.Ok(UsageBatchAnswer.From(outcomes));
    }

    /// <summary>Room for <see cref="UsageIntake.MaxBatchSize"/> reports with long keys and generous whitespace.</summary>
    private const long MaxBatchBytes = 1024 * 1024;

    private static IResult TooLarge() => Results.Problem(
        title: "The usage report is too large.",
        detail: $"At most {MaxBatchBytes / 1024} KiB per request ({UsageIntake.MaxBatchSize} reports per batch). Nothing was recorded.",
        statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>A 413 for a body announced too large; otherwise caps reading, so a body sent without a length stops at the limit.</summary>
    private static IResult? LimitBody(HttpRequest request)
    {
        if (request.ContentLength > MaxBatchBytes)
        {
            return TooLarge();
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBatchBytes;
        }

        return null;
    }

    /// <summary>Reads the body, or answers a 400 naming the field whose JSON could not be read (413 past a size limit).</summary>
    private static async Task<(T? Body, IResult? Problem)> ReadAsync<T>(HttpRequest request, string title, CancellationToken ct)
    {
        try
        {
            return (await JsonSerializer.DeserializeAsync<T>(request.Body, MarketplaceJson.Options, ct), null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, TooLarge());
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : "body";
            return (default, Results.ValidationProblem(
                new Dictionary<string, string[]> { [field] = ["Not valid JSON for this field: " + ex.Message] }, title: title));
        }
    }

    private static IResult Replayed(HttpContext context, UsageReceipt receipt)
    {
        context.Response.Headers["Idempotent-Replayed"] = "true";
        return Results.Ok(receipt);
    }

    /// <summary>Streams billed hours answered in [from, to) as CSV, row by row; nothing is held in memory.</summary>
    private static async Task ExportBilledUsageAsync(
        HttpContext context, UsageStore store, TimeProvider time, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        var end = to ?? time.GetUtcNow();
        var start = from ?? end.AddDays(-31);
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition =
            $"attachment; filename=\"usage-{start:yyyyMMdd}-{end:yyyyMMdd}.csv\"";

        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false));
        await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        csv.WriteHeader<BilledUsageLine>();
        await csv.NextRecordAsync();
        await foreach (var row in store.BilledUsageAsync(start, end, ct))
        {
            csv.WriteRecord(BilledUsageLine.From(row));
            await csv.NextRecordAsync();
        }

        await csv.FlushAsync();
    }

    /// <summary>One CSV line: quantities in units, times in ISO-8601 UTC.</summary>
    public sealed record BilledUsageLine(
        Guid SubscriptionId, string? OfferId, string? PlanId, string Dimension, string Hour, decimal BilledQuantity,
        decimal RecordedQuantity, string Status, string? UsageEventId, string? SubmittedAt, string? AnsweredAt)
    {
        public static BilledUsageLine From(BilledUsageRow r) => new(
            r.SubscriptionId, r.OfferId, r.PlanId, r.Dimension, Iso(r.HourStart),
            UsageQuantity.FromMicros(r.BilledQuantityMicros ?? r.QuantityMicros), UsageQuantity.FromMicros(r.QuantityMicros),
            r.State, r.UsageEventId, r.SubmittedAt is { } s ? Iso(s) : null, r.AnsweredAt is { } a ? Iso(a) : null);

        private static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }
}
