using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using PublisherPortal.Data;
using PublisherPortal.Observability;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Observability;

/// <summary>Instruments are process-wide: these tests run alone so no other test's deliveries move their figures.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry (runs alone)";
}

/// <summary>
/// A customer's plan change travels emulator → our webhook over loopback → inbox → processor (Get operation, change
/// decision, database change) → acknowledgement PATCH, with the portal's own telemetry set-up and an in-memory exporter
/// in place of OTLP: one trace, every span connected, and the metrics an on-call engineer reads have moved.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class WebhookTraceTests
{
    [Fact]
    public async Task A_plan_change_is_one_connected_trace_from_arrival_to_the_acknowledgement_and_the_metrics_move()
    {
        var spans = new List<Activity>();
        using var metrics = new RecordingMeterListener();
        await using var scenario = await WebhookScenario.StartAsync();
        var portal = await scenario.StartPortalAsync(services: s => s
            .AddPortalTelemetry(new ConfigurationBuilder().Build())
            .WithTracing(tracing => tracing.AddInMemoryExporter(spans)));
        var subscriptionId = await portal.ActiveSubscriptionAsync(scenario.Emulator, "team", 5);

        var operationId = await scenario.Simulator.ChangePlanAsync(subscriptionId, "business");

        await Eventually.HoldsAsync(() => Task.FromResult(scenario.Simulator.StatusUpdatesFor(operationId)), u => u.Count > 0, $"a PATCH for {operationId}");
        await portal.DrainAsync();
        var trace = await Eventually.HoldsAsync(
            () => Task.FromResult(TraceOf(spans, operationId)),
            t => t.Any(s => s.DisplayName == "webhook acknowledge"),
            "the acknowledgement span ended");

        var names = trace.Select(s => s.DisplayName).ToList();
        Assert.Contains(names, n => n.StartsWith("POST", StringComparison.Ordinal) && n.Contains("/api/webhook", StringComparison.Ordinal));
        foreach (var expected in new[] { "webhook receive", "webhook validate token", "webhook inbox write", "webhook process",
                     "webhook change decision", "webhook apply change", "webhook acknowledge" })
        {
            Assert.Contains(expected, names);
        }

        Assert.Contains("Marketplace GET /api/saas/subscriptions/{id}/operations/{id}", names);
        Assert.Contains("Marketplace PATCH /api/saas/subscriptions/{id}/operations/{id}", names);
        if (!scenario.Database.IsSqlite)
        {
            // Npgsql's own spans: the database change sits inside the trace.
            var apply = trace.Single(s => s.DisplayName == "webhook apply change");
            Assert.Contains(trace, s => s.Source.Name == "Npgsql" && s.ParentSpanId == apply.SpanId);
        }

        // Connected: one root, and every other span's parent is in the trace (across the inbox hand-off and the outbox).
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        var roots = trace.Where(s => !ids.Contains(s.ParentSpanId)).ToList();
        Assert.True(roots.Count == 1, "roots: " + string.Join(", ", roots.Select(r => r.DisplayName)));
        var process = trace.Single(s => s.DisplayName == "webhook process");
        Assert.Equal("webhook receive", trace.Single(s => s.SpanId == process.ParentSpanId).DisplayName);
        // The acknowledgement was queued in the database change that decided it: the PATCH hangs under that span.
        Assert.Equal("webhook apply change", trace.Single(s => s.SpanId == trace.Single(a => a.DisplayName == "webhook acknowledge").ParentSpanId).DisplayName);

        metrics.Listener.RecordObservableInstruments();
        Assert.Contains(metrics.Of("portal.webhook.deliveries"), m => m.Tag("result") == DeliveryResults.Accepted && m.Value == 1);
        Assert.Contains(metrics.Of("portal.webhook.processed"), m => m.Tag("state") == ProcessingStates.Applied);
        var latency = Assert.Single(metrics.Of("portal.webhook.acknowledgement.latency"));
        Assert.InRange(latency.Value, 0.0, 10.0);
        Assert.Equal("Success", latency.Tag("answer"));
        Assert.Contains(metrics.Of("marketplace.client.calls"), m =>
            m.Tag("http.request.method") == "PATCH" && m.Tag("http.response.status_code") == "200"
            && m.Tag("marketplace.endpoint") == "/api/saas/subscriptions/{id}/operations/{id}");
        var depths = metrics.Of("portal.queue.depth").Select(m => m.Tag("queue")).ToHashSet();
        Assert.Equal(["acknowledgements", "inbox", "mails", "operations", "usage"], depths.Order());
        Assert.Contains(metrics.Of("portal.queue.depth"), m => m.Tag("queue") == "inbox" && m.Value == 0);
    }

    private static List<Activity> TraceOf(List<Activity> spans, Guid operationId)
    {
        lock (spans)
        {
            var all = spans.ToArray();
            var receive = all.FirstOrDefault(s => s.DisplayName == "webhook receive" && Equals(s.GetTagItem("marketplace.operation_id"), operationId));
            return receive is null ? [] : [.. all.Where(s => s.TraceId == receive.TraceId)];
        }
    }
}

/// <summary>Every measurement of the portal's and the marketplace client's instruments while it lives.</summary>
public sealed class RecordingMeterListener : IDisposable
{
    private static readonly string[] Meters = [PortalTelemetry.Webhooks, PortalTelemetry.Landing, PortalTelemetry.Workers, Marketplace.MarketplaceTelemetry.Name];
    private readonly ConcurrentQueue<Recorded> _recorded = new();

    public RecordingMeterListener()
    {
        Listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (Meters.Contains(instrument.Meter.Name))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        Listener.SetMeasurementEventCallback<long>((i, v, tags, _) => _recorded.Enqueue(new(i.Name, v, tags.ToArray())));
        Listener.SetMeasurementEventCallback<double>((i, v, tags, _) => _recorded.Enqueue(new(i.Name, v, tags.ToArray())));
        Listener.Start();
    }

    public MeterListener Listener { get; }

    public IReadOnlyList<Recorded> Of(string instrument) => [.. _recorded.Where(r => r.Instrument == instrument)];

    public void Dispose() => Listener.Dispose();

    public sealed record Recorded(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)
    {
        public string? Tag(string key) => Tags.FirstOrDefault(t => t.Key == key).Value?.ToString();
    }
}
