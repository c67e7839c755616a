using Marketplace.Models;

namespace Marketplace.Emulator;

/// <summary>
/// Everything the emulator pretends to be: the publisher it serves, the app registrations it knows, where it delivers
/// webhooks and how fast (or how badly) it answers. Defaults match the demo identities and the default catalogue.
/// Properties stay settable so the standalone host can bind them from the command line and the environment.
/// </summary>
public sealed class EmulatorOptions
{
    public string PublisherId { get; set; } = "contoso-publisher";

    /// <summary>The publisher's Entra tenant: webhook tokens are issued for it (docs/marketplace.md#webhook-authentication).</summary>
    public string PublisherTenantId { get; set; } = DemoIdentities.PublisherTenantId;

    /// <summary>The publisher's app registration: it calls the API and is the audience of webhook tokens.</summary>
    public string PortalClientId { get; set; } = "5f1a0c2e-0000-4000-8000-000000000001";

    public string PortalClientSecret { get; set; } = "demo-secret-not-for-production";

    /// <summary>The marketplace resource (docs/marketplace.md#calling-the-api): audience of API tokens, appid/azp of webhook tokens.</summary>
    public string MarketplaceAppId { get; set; } = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7";

    /// <summary>Where Microsoft's side delivers webhooks (the portal's /api/webhook). Read at each delivery, so it may be set after start.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>
    /// More instances of the same portal behind what stands in for a load balancer: attempts rotate over
    /// <see cref="WebhookUrl"/> and these, so a retry after a dead instance lands on another (--WebhookUrls:0=… on the command line).
    /// </summary>
    public IList<Uri> WebhookUrls { get; set; } = [];

    /// <summary>The publisher's landing page; simulated purchases return LandingPageUrl?token=….</summary>
    public Uri? LandingPageUrl { get; set; }

    /// <summary>Keeps the TLS certificate, the signing key and a state snapshot across restarts; null keeps everything in memory.</summary>
    public string? DataDirectory { get; set; }

    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>0 picks a free port.</summary>
    public int HttpsPort { get; set; }

    /// <summary>0 picks a free port.</summary>
    public int HttpPort { get; set; }

    /// <summary>Operations the publisher starts (change plan, seats, cancel) finish after this.</summary>
    public TimeSpan OperationDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The marketplace accepts a ChangePlan/ChangeQuantity by itself when the publisher stays silent this
    /// long (docs/marketplace.md#answering-deliveries).</summary>
    public TimeSpan AutoAcceptAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Docs give 24 hours for the landing-page token (docs/marketplace.md#landing-token).</summary>
    public TimeSpan PurchaseTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Subscriptions per List page; the real service uses 100 (docs/marketplace.md#list-subscriptions).</summary>
    public int PageSize { get; set; } = 100;

    public FaultOptions Faults { get; set; } = new();

    public WebhookRetryOptions WebhookRetry { get; set; } = new();

    /// <summary>Offers and their plans; the built-in demo catalogue unless replaced.</summary>
    public IList<CatalogueOffer> Catalogue { get; set; } = EmulatorCatalogue.CreateDefault();
}

/// <summary>Misbehaviour on purpose, so retries and error pages can be seen working. Mutable while running.</summary>
public sealed class FaultOptions
{
    private double _failureRate;

    /// <summary>Share (0..1) of fulfillment API calls answered 429 (with Retry-After) or 500. Identity endpoints are never faulted.</summary>
    public double FailureRate
    {
        get => Volatile.Read(ref _failureRate);
        set => Volatile.Write(ref _failureRate, Math.Clamp(value, 0, 1));
    }

    private long _addedLatencyTicks;

    /// <summary>Added before every fulfillment API answer.</summary>
    public TimeSpan AddedLatency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _addedLatencyTicks));
        set => Interlocked.Exchange(ref _addedLatencyTicks, Math.Max(0, value.Ticks));
    }
}

/// <summary>The real service retries deliveries for hours (docs/marketplace.md#answering-deliveries); the emulator
/// does the same in miniature.</summary>
public sealed class WebhookRetryOptions
{
    /// <summary>Attempts in all, the first one included.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Wait before the second attempt; doubled each time up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one delivery may take before it counts as failed.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>An offer of the catalogue with its plans, in the shape listAvailablePlans returns them.</summary>
public sealed class CatalogueOffer
{
    public string OfferId { get; set; } = "";
    public IList<Plan> Plans { get; set; } = [];
}
