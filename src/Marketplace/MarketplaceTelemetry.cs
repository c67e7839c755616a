using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;

namespace Marketplace;

/// <summary>
/// The client's traces and metrics, under one name a host subscribes to (the portal's Observability feature does). An
/// ActivitySource and a Meter cost nothing while nobody listens, so the library always emits them.
/// </summary>
public static partial class MarketplaceTelemetry
{
    public const string Name = "Marketplace.Client";

    internal static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    /// <summary>marketplace.client.calls: every call by API, method, endpoint (ids replaced by {id}) and status, or "none" when no answer came.</summary>
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>(
        "marketplace.client.calls", "{call}", "Calls to the marketplace APIs by endpoint and answer status");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "marketplace.client.duration", "s", "Time to the marketplace's answer, retries included");

    /// <summary>The endpoint as a template: a subscription or operation id in the path would make one series per customer.</summary>
    public static string EndpointOf(string path) => Ids().Replace(path, "{id}");

    internal static Activity? StartCall(string api, string method, string endpoint)
    {
        var activity = Source.StartActivity($"{api} {method} {endpoint}", ActivityKind.Internal);
        activity?.SetTag("marketplace.api", api);
        activity?.SetTag("marketplace.endpoint", endpoint);
        return activity;
    }

    internal static void RecordCall(string api, string method, string endpoint, int? status, double seconds)
    {
        var tags = new TagList
        {
            { "marketplace.api", api },
            { "http.request.method", method },
            { "marketplace.endpoint", endpoint },
            { "http.response.status_code", status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none" },
        };
        Calls.Add(1, tags);
        Duration.Record(seconds, tags);
    }

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex Ids();
}
