using System.Globalization;
using System.Text.Json;
using Marketplace.Emulator.Fulfillment;
using Marketplace.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Marketplace.Emulator.Metering;

/// <summary>
/// The metering service API (docs/marketplace.md#metering) under /api: single event, batch, retrieval. The <see cref="ApiGate"/> in front
/// of /api gives them the fulfillment API's bearer check, api-version gate, request ids and injected faults.
/// </summary>
internal static class MeteringEndpoints
{
    public static void MapMeteringEndpoints(this IEndpointRouteBuilder app, UsageLedger ledger)
    {
        app.MapPost("/api/usageEvent", async (HttpRequest request) =>
        {
            var usage = await ReadAsync<UsageEvent>(request);
            if (usage is null)
            {
                return BadArgument("usageEventRequest", "The request body is not a usage event.");
            }

            var result = ledger.Record(usage, inBatch: false);
            return result.Status switch
            {
                UsageEventStatus.Accepted => Json(result, StatusCodes.Status200OK),
                // The 409 body is the error itself, carrying the event accepted earlier (docs/marketplace.md#metering).
                UsageEventStatus.Duplicate => Json(result.Error!, StatusCodes.Status409Conflict),
                UsageEventStatus.ResourceNotAuthorized => Json(result.Error!, StatusCodes.Status403Forbidden),
                _ => Json(result.Error!, StatusCodes.Status400BadRequest),
            };
        });

        app.MapPost("/api/batchUsageEvent", async (HttpRequest request) =>
        {
            var batch = await ReadAsync<BatchUsageEventRequest>(request);
            if (batch is null || batch.Request.Count == 0)
            {
                return BadArgument("request", "The request body holds no usage events.");
            }

            if (batch.Request.Count > BatchUsageEventRequest.MaxEvents)
            {
                return BadArgument("request", $"A batch holds at most {BatchUsageEventRequest.MaxEvents} usage events; {batch.Request.Count} sent.");
            }

            var results = batch.Request.Select(usage => ledger.Record(usage, inBatch: true)).ToList();
            return Json(new BatchUsageEventResult { Result = results, Count = results.Count }, StatusCodes.Status200OK);
        });

        app.MapGet("/api/usageEvents", (string? usageStartDate, string? usageEndDate, string? offerId, string? planId, string? dimension,
            string? resourceId, TimeProvider time) =>
        {
            if (!TryParseTime(usageStartDate, out var start))
            {
                return BadArgument("usageStartDate", "usageStartDate is required (ISO-8601 date or date-time).");
            }

            var end = time.GetUtcNow();
            if (usageEndDate is not null && !TryParseTime(usageEndDate, out end))
            {
                return BadArgument("usageEndDate", "usageEndDate is not a date.");
            }

            Guid? resource = null;
            if (!string.IsNullOrWhiteSpace(resourceId))
            {
                if (!Guid.TryParse(resourceId, out var id))
                {
                    return BadArgument("resourceId", "resourceId is not a GUID.");
                }

                resource = id;
            }

            return Json(ledger.Reported(start, end, Blank(offerId), Blank(planId), Blank(dimension), resource), StatusCodes.Status200OK);
        });
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool TryParseTime(string? text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    private static async Task<T?> ReadAsync<T>(HttpRequest request) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, MarketplaceJson.Options, request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult Json<T>(T value, int status) => Results.Json(value, MarketplaceJson.Options, statusCode: status);

    /// <summary>The metering API's 400 shape: <c>{ message, target, details: [{message, target, code}], code: "BadArgument" }</c>.</summary>
    private static IResult BadArgument(string target, string message) => Json(new UsageEventError
    {
        Code = "BadArgument",
        Message = message,
        Target = target,
        Details = [new UsageEventErrorDetail { Code = "BadArgument", Message = message, Target = target }],
    }, StatusCodes.Status400BadRequest);
}
