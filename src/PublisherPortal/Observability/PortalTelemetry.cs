using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PublisherPortal.Observability;

/// <summary>
/// One place for the names of every ActivitySource and Meter the portal emits, one pair per feature, and the instruments
/// themselves. An operator's collector filters by these names; <see cref="ObservabilityExtensions"/> subscribes to all.
/// </summary>
public static class PortalTelemetry
{
    public const string Webhooks = "PublisherPortal.Webhooks";
    public const string Landing = "PublisherPortal.Landing";
    public const string Workers = "PublisherPortal.Workers";

    public static readonly string[] SourceNames = [Webhooks, Landing, Workers, Marketplace.MarketplaceTelemetry.Name];

    /// <summary>
    /// The marketplace accepts a ChangePlan/ChangeQuantity by itself 10 s after delivering it
    /// (docs/marketplace.md#answering-deliveries): the latency histogram has a bucket edge there, so "how many missed"
    /// is one bucket read.
    /// </summary>
    private static readonly double[] AcknowledgementBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 10, 15, 30, 60, 300, 3600];

    public static class WebhookTelemetry
    {
        public static readonly ActivitySource Source = new(Webhooks);
        private static readonly Meter Meter = new(Webhooks);

        /// <summary>portal.webhook.deliveries: what the door made of each delivery (Accepted, Duplicate, Unauthorized, Malformed).</summary>
        public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>(
            "portal.webhook.deliveries", "{delivery}", "Webhook deliveries by what the endpoint answered");

        /// <summary>portal.webhook.processed: what the processor made of accepted deliveries (Applied, Stale, Ignored, Failed, Retry).</summary>
        public static readonly Counter<long> Processed = Meter.CreateCounter<long>(
            "portal.webhook.processed", "{delivery}", "Accepted deliveries by processing outcome");

        public static readonly Histogram<double> AcknowledgementLatency = Meter.CreateHistogram(
            "portal.webhook.acknowledgement.latency", "s",
            "From the delivery's arrival to the marketplace accepting our answer; 10 s is the deadline for changes",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AcknowledgementBuckets });

        /// <summary>portal.webhook.acknowledgement.late: answers accepted after the 10-second window (the change stood regardless).</summary>
        public static readonly Counter<long> LateAcknowledgements = Meter.CreateCounter<long>(
            "portal.webhook.acknowledgement.late", "{acknowledgement}", "Acknowledgements accepted after their deadline");
    }

    public static class LandingTelemetry
    {
        public static readonly ActivitySource Source = new(Landing);
        private static readonly Meter Meter = new(Landing);

        /// <summary>portal.landing.opened: landing page visits by outcome (ReadyToActivate, InvalidToken, Unavailable, …).</summary>
        public static readonly Counter<long> Opened = Meter.CreateCounter<long>(
            "portal.landing.opened", "{visit}", "Landing page visits with a token, by what the customer saw");

        /// <summary>portal.landing.activations: activations by outcome; Activated is a conversion.</summary>
        public static readonly Counter<long> Activations = Meter.CreateCounter<long>(
            "portal.landing.activations", "{activation}", "Activation attempts by outcome (Activated = a conversion)");
    }

    public static class WorkerTelemetry
    {
        public static readonly ActivitySource Source = new(Workers);
        private static readonly Meter Meter = new(Workers);

        /// <summary>portal.worker.lease_takeovers: work claimed after another instance's lease ran out (it died or stalled).</summary>
        public static readonly Counter<long> LeaseTakeovers = Meter.CreateCounter<long>(
            "portal.worker.lease_takeovers", "{item}", "Queue items taken over from an instance whose lease ran out");
    }

    /// <summary>
    /// The W3C traceparent of the current span, stored with work handed to a worker through the database so the
    /// worker's spans continue the same trace. Null when nothing is traced.
    /// </summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>A span continuing the trace stored with a queue item (a new trace when none was stored).</summary>
    public static Activity? StartFromStored(this ActivitySource source, string name, string? traceParent, ActivityKind kind = ActivityKind.Internal) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var parent)
            ? source.StartActivity(name, kind, parent)
            // An explicit default parent: a worker round's own ambient span never adopts an unrelated item.
            : source.StartActivity(name, kind, default(ActivityContext));
}
