using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace PublisherPortal.Observability;

public static class ObservabilityExtensions
{
    /// <summary>
    /// Traces, metrics and logs over OTLP, configured the standard way by the OTEL_* settings (environment or
    /// configuration: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES…,
    /// https://opentelemetry.io/docs/specs/otel/protocol/exporter/). With no endpoint set nothing is registered: no
    /// listener, no collection, no cost.
    /// </summary>
    public static IHostApplicationBuilder AddObservability(this IHostApplicationBuilder builder)
    {
        if (!OtlpConfigured(builder.Configuration))
        {
            return builder;
        }

        builder.Services.AddPortalTelemetry(builder.Configuration).UseOtlpExporter();
        // Every log record carries the trace and span id of the span it was written in; scopes carry the subscription id.
        builder.Logging.AddOpenTelemetry(logs =>
        {
            logs.IncludeScopes = true;
            logs.IncludeFormattedMessage = true;
        });
        return builder;
    }

    /// <summary>Any of the standard endpoint settings, for all signals or for one.</summary>
    public static bool OtlpConfigured(IConfiguration configuration) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" }
            .Any(key => !string.IsNullOrWhiteSpace(configuration[key]));

    /// <summary>
    /// What the portal emits and which instrumentation it turns on, without an exporter: production adds OTLP, tests
    /// add an in-memory exporter to the same set.
    /// </summary>
    public static IOpenTelemetryBuilder AddPortalTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WorkQueueGauges>();
        return services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME wins when set; otherwise every instance reports as the portal.
                if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService("PublisherPortal", serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId);
                }
            })
            .WithTracing(tracing => tracing
                .AddSource(PortalTelemetry.SourceNames)
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => IsWorthTracing(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddProcessor(new DropUnparentedDatabaseSpans()))
            .WithMetrics(metrics => metrics
                .AddMeter(PortalTelemetry.SourceNames)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddInstrumentation(sp => sp.GetRequiredService<WorkQueueGauges>()));
    }

    /// <summary>Liveness probes and static files would drown the traces that matter.</summary>
    private static bool IsWorthTracing(PathString path) =>
        !path.StartsWithSegments("/healthz") && !path.StartsWithSegments("/_framework") && !path.StartsWithSegments("/_content")
        && !path.StartsWithSegments("/assets");

    /// <summary>
    /// Workers poll their queues every second or so; each poll would be a trace of one database span. Database spans
    /// are kept inside a trace (a webhook, a page) and dropped when they would start one.
    /// </summary>
    private sealed class DropUnparentedDatabaseSpans : BaseProcessor<System.Diagnostics.Activity>
    {
        public override void OnStart(System.Diagnostics.Activity activity)
        {
            if (activity.Source.Name == "Npgsql" && activity.ParentSpanId == default)
            {
                activity.ActivityTraceFlags &= ~System.Diagnostics.ActivityTraceFlags.Recorded;
                activity.IsAllDataRequested = false;
            }
        }
    }
}
