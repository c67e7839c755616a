using Microsoft.AspNetCore.Http.Features;
using PublisherPortal.Data;

namespace PublisherPortal.Webhooks;

public static class WebhookEndpoints
{
    public const string Route = "/api/webhook";

    /// <summary>
    /// POST /api/webhook. Anonymous to ASP.NET Core on purpose: the marketplace signs in with its own bearer JWT, which
    /// <see cref="WebhookInbox"/> validates against the publisher tenant's keys (docs/marketplace.md#webhook-authentication) — no cookie, no user.
    /// </summary>
    public static IEndpointRouteBuilder MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(Route, ReceiveAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .RequireWritableDatabase()
            .RequireRateLimiting(RejectedDeliveryLimit.PolicyName)
            .WithName("MarketplaceWebhook");
        return app;
    }

    private static async Task<IResult> ReceiveAsync(
        HttpContext context, WebhookInbox inbox, RejectedDeliveryLimit rejections, Microsoft.Extensions.Options.IOptions<WebhooksOptions> options)
    {
        var ct = context.RequestAborted;
        var limit = options.Value.MaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        string body;
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            body = await reader.ReadToEndAsync(ct);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        var headers = context.Request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()));
        var outcome = await inbox.AcceptAsync(context.Request.Headers.Authorization.ToString(), body, headers, ct);
        if (outcome is InboxOutcome.Unauthorized { RetryLater: false } or InboxOutcome.Malformed)
        {
            rejections.CountRefusal(context);
        }

        return outcome switch
        {
            InboxOutcome.Accepted a => Results.Ok(new { result = "Accepted", deliveryId = a.DeliveryId }),
            InboxOutcome.Duplicate d => Results.Ok(new { result = "Duplicate", deliveryId = d.DeliveryId }),
            // Keys we could not fetch say nothing about the token: a 5xx makes the marketplace deliver again, where a
            // 4xx would refuse a genuine ChangePlan/ChangeQuantity (docs/marketplace.md#answering-deliveries).
            InboxOutcome.Unauthorized { RetryLater: true } => Results.StatusCode(StatusCodes.Status503ServiceUnavailable),
            InboxOutcome.Unauthorized => Results.Unauthorized(),
            // Error answers are ProblemDetails like every API error; the empty ones (401, 413, 503) get theirs from
            // UseStatusCodePages (Security/SecurityExtensions.cs).
            InboxOutcome.Malformed => Results.Problem(
                title: "Malformed", detail: "The body is not a marketplace webhook notification.", statusCode: StatusCodes.Status400BadRequest),
            _ => Results.StatusCode(StatusCodes.Status500InternalServerError),
        };
    }
}
