using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Marketplace.Emulator.Control;

/// <summary>
/// GET /emulator: the marketplace seen from the customer's and Microsoft's chair — buy something (and follow the landing
/// link), then change, renew, suspend, reinstate or cancel it, and watch each operation's webhook deliveries.
/// </summary>
internal static class ControlPage
{
    public static IResult Render(MarketplaceSimulator simulator, EmulatorOptions options, string? message)
    {
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Marketplace emulator</title>
            <style>
              body { font-family: "Segoe UI", system-ui, sans-serif; margin: 24px; color: #1b1a19; background: #faf9f8; }
              h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 28px; }
              table { border-collapse: collapse; width: 100%; background: #fff; }
              th, td { border-bottom: 1px solid #edebe9; padding: 6px 8px; text-align: left; vertical-align: top; font-size: .9rem; }
              th { background: #f3f2f1; }
              form.inline { display: inline-block; margin: 0 4px 4px 0; }
              input, select, button { font: inherit; padding: 3px 6px; }
              .message { background: #dff6dd; border: 1px solid #107c10; padding: 8px 12px; word-break: break-all; }
              .muted { color: #605e5c; font-size: .85rem; }
              code { font-size: .8rem; }
            </style></head><body>
            <h1>Marketplace emulator</h1>
            <p class="muted">Demo and development only. Publisher
            """);
        html.Append($" <code>{E(options.PublisherId)}</code>, webhook → <code>{E(options.WebhookUrl?.ToString() ?? "(none)")}</code>, landing page → <code>{E(options.LandingPageUrl?.ToString() ?? "(none)")}</code>.</p>");
        if (!string.IsNullOrEmpty(message))
        {
            html.Append($"""<p class="message" id="message">{Linkify(message)}</p>""");
        }

        html.Append("""<h2>Simulate a purchase</h2><form method="post" action="/emulator/purchases" id="purchase-form">""");
        html.Append("""<label>Plan <select name="planId">""");
        foreach (var offer in options.Catalogue)
        {
            foreach (var plan in offer.Plans.Where(p => !p.IsStopSell))
            {
                html.Append($"""<option value="{E(plan.PlanId)}" data-offer="{E(offer.OfferId)}">{E(offer.OfferId)} / {E(plan.DisplayName)}</option>""");
            }
        }

        html.Append("""</select></label> <label>Offer <select name="offerId">""");
        foreach (var offer in options.Catalogue)
        {
            html.Append($"""<option>{E(offer.OfferId)}</option>""");
        }

        html.Append("""</select></label> <label>Seats <input name="quantity" type="number" min="1" value="5" style="width:5em"></label> <label>Customer <select name="beneficiary">""");
        foreach (var person in DemoIdentities.All)
        {
            html.Append($"""<option value="{E(person.Key)}">{E(person.DisplayName)}</option>""");
        }

        html.Append("""</select></label> <label><input type="checkbox" name="reseller"> through a reseller (CSP)</label> <button type="submit">Buy</button></form>""");

        html.Append("""<h2>Subscriptions</h2><table id="subscriptions"><tr><th>Subscription</th><th>Status</th><th>Plan</th><th>Seats</th><th>Customer</th><th>Operations</th><th>Actions</th></tr>""");
        foreach (var s in simulator.AllSubscriptions().Reverse())
        {
            var operations = string.Join("<br>", simulator.OperationsOf(s.Id).TakeLast(4).Select(o =>
                $"""<a href="/emulator/operations/{o.Id}">{E(o.Action)}</a> {o.Status} <span class="muted">({o.RequestSource}, {simulator.DeliveriesFor(o.Id).Count} deliveries)</span>"""));
            html.Append($"""
                <tr data-subscription="{s.Id}"><td>{E(s.Name)}<br><code>{s.Id}</code>{(s.PublisherId == options.PublisherId ? "" : $"<br><span class=muted>publisher {E(s.PublisherId)}</span>")}</td>
                <td>{s.SaasSubscriptionStatus}</td><td>{E(s.OfferId)} / {E(s.PlanId)}</td><td>{s.Quantity?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–"}</td>
                <td>{E(s.Beneficiary?.EmailId ?? "")}{(s.IsResellerPurchase ? "<br><span class=muted>via reseller</span>" : "")}</td><td>{operations}</td><td>
                <form class="inline" method="post" action="/emulator/subscriptions/{s.Id}/change-plan"><input name="planId" placeholder="plan" size="8"><button>Change plan</button></form>
                <form class="inline" method="post" action="/emulator/subscriptions/{s.Id}/change-quantity"><input name="quantity" type="number" min="1" style="width:4em"><button>Change seats</button></form>
                {Button(s.Id, "renew", "Renew")}{Button(s.Id, "suspend", "Suspend")}{Button(s.Id, "reinstate", "Reinstate")}{Button(s.Id, "unsubscribe", "Unsubscribe")}{Button(s.Id, "token", "New landing link")}
                </td></tr>
                """);
        }

        html.Append($"""
            </table>
            <h2>Faults</h2>
            <form method="post" action="/emulator/faults">
              <label>Failure rate <input name="failureRate" value="{options.Faults.FailureRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}" size="4"></label>
              <label>Added latency (ms) <input name="addedLatencyMs" value="{(int)options.Faults.AddedLatency.TotalMilliseconds}" size="6"></label>
              <button type="submit">Apply</button>
            </form>
            </body></html>
            """);
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static string Button(Guid subscriptionId, string action, string label) =>
        $"""<form class="inline" method="post" action="/emulator/subscriptions/{subscriptionId}/{action}"><button data-action="{action}">{label}</button></form>""";

    /// <summary>Messages may carry the landing link; make it clickable, everything else encoded.</summary>
    private static string Linkify(string message)
    {
        var parts = message.Split(' ');
        return string.Join(' ', parts.Select(p => Uri.TryCreate(p, UriKind.Absolute, out var uri) && uri.Scheme.StartsWith("http", StringComparison.Ordinal)
            ? $"""<a id="landing-link" href="{E(p)}">{E(p)}</a>"""
            : E(p)));
    }

    private static string E(string value) => WebUtility.HtmlEncode(value);
}
