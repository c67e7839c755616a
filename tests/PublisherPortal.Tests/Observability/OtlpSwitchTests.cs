using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PublisherPortal.Observability;

namespace PublisherPortal.Tests.Observability;

/// <summary>Telemetry follows the standard OTEL_* settings: off (nothing registered) unless an OTLP endpoint is named.</summary>
public sealed class OtlpSwitchTests
{
    [Fact]
    public void Without_an_OTLP_endpoint_no_tracer_or_meter_provider_is_registered()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_SERVICE_NAME"] = "portal" });
        builder.AddObservability();

        using var app = builder.Build();

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")]
    public void An_OTLP_endpoint_turns_traces_and_metrics_on(string setting)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [setting] = "http://127.0.0.1:4317" });
        builder.Services.AddSingleton(new global::PublisherPortal.Data.PortalDatabase(global::PublisherPortal.Data.DatabaseProvider.Sqlite, "Data Source=:memory:"));
        builder.AddObservability();

        using var app = builder.Build();

        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.NotNull(app.Services.GetService<MeterProvider>());
    }
}
