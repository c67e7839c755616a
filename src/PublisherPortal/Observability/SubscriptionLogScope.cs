namespace PublisherPortal.Observability;

/// <summary>
/// The logging scope every log line about one subscription is written in: its id as the structured field
/// "SubscriptionId", so an operator asked about a subscription finds every line with one query, whichever message
/// wrote it. The OTLP exporter and the console (IncludeScopes in appsettings.json) carry scopes.
/// </summary>
public static class SubscriptionLogScope
{
    public static IDisposable? Begin(ILogger logger, Guid? subscriptionId) =>
        // A message-template scope: structured ("SubscriptionId") for OTLP and JSON, readable in the plain console.
        subscriptionId is { } id ? logger.BeginScope("SubscriptionId: {SubscriptionId}", id) : null;
}
