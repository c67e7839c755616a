using System.Globalization;
using System.Text.Json;
using Marketplace.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Marketplace.Emulator.Fulfillment;

/// <summary>The SaaS Fulfillment API v2 and its operations API (docs/marketplace.md#subscription-calls and
/// docs/marketplace.md#operations-api), under /api/saas/subscriptions.</summary>
internal static class FulfillmentEndpoints
{
    public const string ApiVersion = "2018-08-31";

    public static void MapFulfillmentEndpoints(this IEndpointRouteBuilder app, SubscriptionBook book, EmulatorOptions options)
    {
        var api = app.MapGroup("/api/saas/subscriptions");

        api.MapPost("/resolve", (HttpRequest request) =>
            Answer(book.Resolve(request.Headers["x-ms-marketplace-token"].FirstOrDefault()), Ok));

        api.MapPost("/{subscriptionId:guid}/activate", async (Guid subscriptionId, HttpRequest request) =>
        {
            if (await ReadBodyAsync<ActivationRequest>(request) is { Refusal: { } bad })
            {
                return Error(bad);
            }

            return Answer(book.Activate(subscriptionId), _ => Results.Ok());
        });

        api.MapGet("", (HttpRequest request, string? continuationToken) =>
        {
            var all = book.ListForPublisher();
            var start = int.TryParse(continuationToken, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? Math.Clamp(s, 0, all.Count) : 0;
            var pageSize = Math.Max(1, options.PageSize);
            var end = Math.Min(all.Count, start + pageSize);
            // @nextLink is absolute, as the real service gives it, and points at the host the caller used.
            var next = end < all.Count
                ? $"{BaseOf(request)}api/saas/subscriptions?api-version={ApiVersion}&continuationToken={end.ToString(CultureInfo.InvariantCulture)}"
                : null;
            return Ok(new SubscriptionPage { Subscriptions = [.. all.Skip(start).Take(end - start)], NextLink = next });
        });

        api.MapGet("/{subscriptionId:guid}", (Guid subscriptionId) => Answer(book.Get(subscriptionId), Ok));

        api.MapGet("/{subscriptionId:guid}/listAvailablePlans", (Guid subscriptionId, string? planId) =>
            Answer(book.AvailablePlans(subscriptionId, string.IsNullOrWhiteSpace(planId) ? null : planId.Trim()), Ok));

        api.MapMethods("/{subscriptionId:guid}", ["PATCH"], async (Guid subscriptionId, HttpRequest request) =>
        {
            var body = await ReadBodyAsync<ChangeRequest>(request);
            if (body.Refusal is { } bad)
            {
                return Error(bad);
            }

            var change = body.Value ?? new ChangeRequest(null, null);
            return Answer(book.RequestChange(subscriptionId, change.PlanId, change.Quantity), op => Accepted(request, op));
        });

        api.MapDelete("/{subscriptionId:guid}", (Guid subscriptionId, HttpRequest request) =>
            Answer(book.RequestDelete(subscriptionId), op => Accepted(request, op)));

        api.MapGet("/{subscriptionId:guid}/operations", (Guid subscriptionId) =>
            Answer(book.OutstandingOperations(subscriptionId), ops => Ok(new OperationList { Operations = ops })));

        api.MapGet("/{subscriptionId:guid}/operations/{operationId:guid}", (Guid subscriptionId, Guid operationId) =>
            Answer(book.GetOperation(subscriptionId, operationId), Ok));

        api.MapMethods("/{subscriptionId:guid}/operations/{operationId:guid}", ["PATCH"], async (Guid subscriptionId, Guid operationId, HttpRequest request) =>
        {
            var body = await ReadBodyAsync<OperationStatusUpdate>(request);
            if (body.Refusal is { } bad)
            {
                return Error(bad);
            }

            return Answer(book.UpdateOperationStatus(subscriptionId, operationId, body.Value?.Status), _ => Results.Ok());
        });
    }

    private sealed record ChangeRequest(
        [property: System.Text.Json.Serialization.JsonPropertyName("planId")] string? PlanId,
        [property: System.Text.Json.Serialization.JsonPropertyName("quantity")] int? Quantity);

    /// <summary>202 with the absolute Operation-Location the client polls (docs/marketplace.md#polling-operations).</summary>
    private static IResult Accepted(HttpRequest request, MarketplaceOperation operation)
    {
        var location = $"{BaseOf(request)}api/saas/subscriptions/{operation.SubscriptionId}/operations/{operation.Id}?api-version={ApiVersion}";
        request.HttpContext.Response.Headers["Operation-Location"] = location;
        // Not documented by the contract; sent because Microsoft's service has been seen sending it. Clients must not need it.
        request.HttpContext.Response.Headers["Operation-Id"] = operation.Id.ToString();
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    internal static string BaseOf(HttpRequest request) => $"{request.Scheme}://{request.Host}/";

    private static IResult Ok<T>(T value) => Results.Json(value, MarketplaceJson.Options);

    private static IResult Answer<T>(ApiResult<T> result, Func<T, IResult> onSuccess) =>
        result.Refusal is { } refusal ? Error(refusal) : onSuccess(result.Value!);

    /// <summary>The error shape of the OpenAPI file: {"error":{"code","message"}} (docs/marketplace.md#error-bodies).</summary>
    internal static IResult Error(ApiRefusal refusal) =>
        Results.Json(new { error = new { code = refusal.Code, message = refusal.Message } }, statusCode: refusal.StatusCode);

    private static async Task<ApiResult<T?>> ReadBodyAsync<T>(HttpRequest request) where T : class
    {
        if (request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding")))
        {
            return ApiResult<T?>.Ok(null);
        }

        try
        {
            return ApiResult<T?>.Ok(await JsonSerializer.DeserializeAsync<T>(request.Body, MarketplaceJson.Options, request.HttpContext.RequestAborted));
        }
        catch (JsonException)
        {
            return ApiRefusal.BadRequest("The request body is not valid JSON for this call.");
        }
    }
}
