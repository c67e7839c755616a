using Marketplace.Emulator.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Marketplace.Emulator.Fulfillment;

/// <summary>
/// What every fulfillment call goes through before its handler, in the order the real service seems to apply it:
/// request ids echoed (docs/marketplace.md#calling-the-api), injected faults and latency, the bearer token (403, not 401), then api-version.
/// Identity endpoints never pass here, so faults never break sign-in.
/// </summary>
internal sealed partial class ApiGate(RequestDelegate next, EmulatorTokens tokens, FaultOptions faults, TimeProvider time, ILogger<ApiGate> log)
{
    private static readonly string[] KnownApiVersions = [FulfillmentEndpoints.ApiVersion];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var requestId = request.Headers["x-ms-requestid"].FirstOrDefault() is { Length: > 0 } given ? given : Guid.NewGuid().ToString();
        context.Response.Headers["x-ms-requestid"] = requestId;
        if (request.Headers["x-ms-correlationid"].FirstOrDefault() is { Length: > 0 } correlation)
        {
            context.Response.Headers["x-ms-correlationid"] = correlation;
        }

        if (faults.AddedLatency > TimeSpan.Zero)
        {
            await Task.Delay(faults.AddedLatency, time, context.RequestAborted);
        }

        if (faults.FailureRate > 0 && Random.Shared.NextDouble() < faults.FailureRate)
        {
            var throttle = Random.Shared.Next(2) == 0;
            LogFaultInjected(log, request.Method, request.Path, throttle ? 429 : 500);
            if (throttle)
            {
                context.Response.Headers.RetryAfter = "1";
                await FulfillmentEndpoints.Error(new ApiRefusal(429, "TooManyRequests", "Injected fault: too many requests.")).ExecuteAsync(context);
            }
            else
            {
                await FulfillmentEndpoints.Error(new ApiRefusal(500, "InternalServerError", "Injected fault: internal error.")).ExecuteAsync(context);
            }

            return;
        }

        var authorization = request.Headers.Authorization.FirstOrDefault() ?? "";
        var bearer = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
        if (bearer is null || !await tokens.IsValidApiTokenAsync(bearer))
        {
            // The marketplace answers a missing, invalid or expired token with 403, not 401 (docs/marketplace.md#calling-the-api).
            await FulfillmentEndpoints.Error(ApiRefusal.Forbidden("The bearer token is missing, invalid or expired.")).ExecuteAsync(context);
            return;
        }

        var version = request.Query["api-version"].FirstOrDefault();
        if (string.IsNullOrEmpty(version) || !KnownApiVersions.Contains(version))
        {
            // This call family answers in its own shape: {"Error":{"Code","Message"}} (docs/marketplace.md#error-bodies).
            var (code, message) = string.IsNullOrEmpty(version)
                ? ("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
                : ("InvalidApiVersionParameter", $"The api-version '{version}' is invalid. The supported versions are '{FulfillmentEndpoints.ApiVersion}'.");
            await Results.Json(new Dictionary<string, object> { ["Error"] = new Dictionary<string, string> { ["Code"] = code, ["Message"] = message } },
                statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Injected fault on {Method} {Path}: {StatusCode}")]
    private static partial void LogFaultInjected(ILogger log, string method, PathString path, int statusCode);
}
