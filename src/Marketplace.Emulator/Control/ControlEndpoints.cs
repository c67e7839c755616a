using System.Text.Json;
using System.Text.Json.Serialization;
using Marketplace.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Marketplace.Emulator.Control;

/// <summary>
/// Demo and development controls under /emulator: what a customer or Microsoft would do in the marketplace, reachable
/// over HTTP and from a small page. No authentication — the emulator listens on loopback and is never a production host.
/// </summary>
internal static class ControlEndpoints
{
    public static void MapControlEndpoints(this IEndpointRouteBuilder app, MarketplaceSimulator simulator, EmulatorOptions options)
    {
        var control = app.MapGroup("/emulator");

        control.MapGet("", (HttpRequest request) => ControlPage.Render(simulator, options, request.Query["message"]));

        control.MapPost("/purchases", async (HttpRequest request, CancellationToken ct) =>
        {
            var fromForm = request.HasFormContentType;
            PurchaseBody? body;
            if (fromForm)
            {
                var form = await request.ReadFormAsync(ct);
                body = new PurchaseBody(form["offerId"], form["planId"], int.TryParse(form["quantity"], out var q) ? q : null,
                    form["beneficiary"], form["purchaser"], form["name"], form["reseller"] == "on");
            }
            else
            {
                try
                {
                    body = await JsonSerializer.DeserializeAsync<PurchaseBody>(request.Body, MarketplaceJson.Options, ct);
                }
                catch (JsonException)
                {
                    return Results.BadRequest(new { error = "The body is not a purchase." });
                }
            }

            return await RunAsync(fromForm, async () =>
            {
                var request2 = ToRequest(body ?? new PurchaseBody(null, null, null, null, null, null, false));
                var purchase = await simulator.PurchaseAsync(request2, ct);
                return (Results.Json(purchase, MarketplaceJson.Options), $"Purchased {purchase.SubscriptionId}. Landing link: {purchase.LandingUrl?.ToString() ?? "(no LandingPageUrl configured) token=" + purchase.Token}");
            });
        });

        control.MapPost("/subscriptions/{subscriptionId:guid}/{action}", async (Guid subscriptionId, string action, HttpRequest request, CancellationToken ct) =>
        {
            var fromForm = request.HasFormContentType;
            string? planId = null;
            int? quantity = null;
            if (fromForm)
            {
                var form = await request.ReadFormAsync(ct);
                planId = form["planId"].ToString() is { Length: > 0 } p ? p : null;
                quantity = int.TryParse(form["quantity"], out var q) ? q : null;
            }
            else if (request.ContentLength > 0)
            {
                try
                {
                    var body = await JsonSerializer.DeserializeAsync<ActionBody>(request.Body, MarketplaceJson.Options, ct);
                    (planId, quantity) = (body?.PlanId, body?.Quantity);
                }
                catch (JsonException)
                {
                    return Results.BadRequest(new { error = "The body must be {\"planId\"} or {\"quantity\"}." });
                }
            }

            return await RunAsync(fromForm, async () =>
            {
                var operationId = action.ToLowerInvariant() switch
                {
                    "change-plan" or "changeplan" => await simulator.ChangePlanAsync(subscriptionId, planId ?? throw new SimulationRefusedException("planId is required."), ct),
                    "change-quantity" or "changequantity" => await simulator.ChangeQuantityAsync(subscriptionId, quantity ?? throw new SimulationRefusedException("quantity is required."), ct),
                    "renew" => await simulator.RenewAsync(subscriptionId, ct),
                    "suspend" => await simulator.SuspendAsync(subscriptionId, ct),
                    "reinstate" => await simulator.ReinstateAsync(subscriptionId, ct),
                    "unsubscribe" => await simulator.UnsubscribeAsync(subscriptionId, ct),
                    "token" => Guid.Empty,
                    _ => throw new SimulationRefusedException($"Unknown action '{action}'. Use change-plan, change-quantity, renew, suspend, reinstate, unsubscribe or token.", notFound: true),
                };
                if (operationId == Guid.Empty)
                {
                    var token = simulator.IssueToken(subscriptionId);
                    var landing = simulator.LandingUrlFor(token);
                    return (Results.Json(new { token, landingUrl = landing }), $"New landing link: {landing?.ToString() ?? "token=" + token}");
                }

                return (Results.Json(new { operationId }), $"{action} started: operation {operationId}.");
            });
        });

        control.MapGet("/subscriptions", () => Results.Json(simulator.AllSubscriptions(), MarketplaceJson.Options));

        control.MapGet("/operations/{operationId:guid}", (Guid operationId) =>
            simulator.FindOperation(operationId) is { } operation
                ? Results.Json(new OperationReport(operation, simulator.DeliveriesFor(operationId), simulator.StatusUpdatesFor(operationId)), MarketplaceJson.Options)
                : Results.NotFound(new { error = $"Operation {operationId} does not exist." }));

        control.MapPut("/faults", async (HttpRequest request, CancellationToken ct) =>
        {
            FaultBody? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync<FaultBody>(request.Body, MarketplaceJson.Options, ct);
            }
            catch (JsonException)
            {
                return Results.BadRequest(new { error = "The body must be {\"failureRate\": 0..1, \"addedLatencyMs\": n}." });
            }

            options.Faults.FailureRate = body?.FailureRate ?? 0;
            options.Faults.AddedLatency = TimeSpan.FromMilliseconds(body?.AddedLatencyMs ?? 0);
            return Results.Json(new FaultBody(options.Faults.FailureRate, (int)options.Faults.AddedLatency.TotalMilliseconds));
        });

        // A form cannot send PUT: the page posts here.
        control.MapPost("/faults", async (HttpRequest request, CancellationToken ct) =>
        {
            var form = await request.ReadFormAsync(ct);
            options.Faults.FailureRate = double.TryParse(form["failureRate"], System.Globalization.CultureInfo.InvariantCulture, out var rate) ? rate : 0;
            options.Faults.AddedLatency = TimeSpan.FromMilliseconds(int.TryParse(form["addedLatencyMs"], out var ms) ? ms : 0);
            return Results.Redirect("/emulator?message=" + Uri.EscapeDataString($"Faults: {options.Faults.FailureRate:P0} failures, {options.Faults.AddedLatency.TotalMilliseconds} ms latency."));
        });
    }

    /// <summary>JSON callers get the result or a 400/404; the page's forms get redirected back with a message.</summary>
    private static async Task<IResult> RunAsync(bool fromForm, Func<Task<(IResult Json, string Message)>> action)
    {
        try
        {
            var (json, message) = await action();
            return fromForm ? Results.Redirect("/emulator?message=" + Uri.EscapeDataString(message)) : json;
        }
        catch (SimulationRefusedException ex)
        {
            if (fromForm)
            {
                return Results.Redirect("/emulator?message=" + Uri.EscapeDataString("Refused: " + ex.Message));
            }

            return ex.NotFound ? Results.NotFound(new { error = ex.Message }) : Results.BadRequest(new { error = ex.Message });
        }
    }

    private static PurchaseRequest ToRequest(PurchaseBody body)
    {
        var reseller = body.Reseller ?? false;
        var beneficiary = DemoIdentities.Find(body.Beneficiary) ?? (reseller ? DemoIdentities.Bob : DemoIdentities.Alice);
        var purchaser = DemoIdentities.Find(body.Purchaser) ?? (reseller ? DemoIdentities.Carla : null);
        return new PurchaseRequest
        {
            OfferId = string.IsNullOrWhiteSpace(body.OfferId) ? EmulatorCatalogue.InsightsOffer : body.OfferId.Trim(),
            PlanId = string.IsNullOrWhiteSpace(body.PlanId) ? "team" : body.PlanId.Trim(),
            Quantity = body.Quantity,
            SubscriptionName = string.IsNullOrWhiteSpace(body.Name) ? null : body.Name.Trim(),
            Beneficiary = beneficiary,
            Purchaser = purchaser,
            ThroughReseller = reseller,
        };
    }

    private sealed record PurchaseBody(
        [property: JsonPropertyName("offerId")] string? OfferId,
        [property: JsonPropertyName("planId")] string? PlanId,
        [property: JsonPropertyName("quantity")] int? Quantity,
        [property: JsonPropertyName("beneficiary")] string? Beneficiary,
        [property: JsonPropertyName("purchaser")] string? Purchaser,
        [property: JsonPropertyName("name")] string? Name,
        [property: JsonPropertyName("reseller")] bool? Reseller);

    private sealed record ActionBody(
        [property: JsonPropertyName("planId")] string? PlanId,
        [property: JsonPropertyName("quantity")] int? Quantity);

    private sealed record FaultBody(
        [property: JsonPropertyName("failureRate")] double? FailureRate,
        [property: JsonPropertyName("addedLatencyMs")] int? AddedLatencyMs);

    private sealed record OperationReport(
        [property: JsonPropertyName("operation")] MarketplaceOperation Operation,
        [property: JsonPropertyName("deliveries")] IReadOnlyList<WebhookAttempt> Deliveries,
        [property: JsonPropertyName("statusUpdates")] IReadOnlyList<StatusUpdateReceived> StatusUpdates);
}
