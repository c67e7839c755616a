using System.ComponentModel.DataAnnotations;

namespace PublisherPortal.Health;

/// <summary>Thresholds and destinations of the integration health checks, bound from the "Health" section.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>
    /// When the app registration's client secret expires, as Entra ID shows it under "Certificates &amp; secrets".
    /// A setting because Entra ID does not tell the app itself. Ignored when the marketplace client uses a certificate.
    /// </summary>
    public DateTimeOffset? ClientSecretExpiresOn { get; set; }

    /// <summary>A Teams or Slack incoming-webhook URL: gets {"text": …} when a check turns failing or recovers. Empty: log only.</summary>
    public Uri? AlertWebhookUrl { get; set; }

    /// <summary>How often the checks run in the background.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    [Range(1, 365)]
    public int CredentialWarningDays { get; set; } = 30;

    [Range(0, 365)]
    public int CredentialFailingDays { get; set; } = 7;

    /// <summary>A purchase still waiting for activation after this many hours is shown for follow-up (it is not billed yet).</summary>
    [Range(1, 24 * 90)]
    public int AbandonedPurchaseHours { get; set; } = 48;

    /// <summary>No delivery accepted for this long while customers are subscribed: worth a look (did the tenant or app id change?).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan WebhookQuietAfter { get; set; } = TimeSpan.FromDays(14);

    /// <summary>An accepted delivery still unprocessed after this long means the processor is not keeping up.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan InboxStuckAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An acknowledgement still unsent this long after its delivery is failing (the 10-second window is long gone).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan AcknowledgementFailingAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>One of our operations still running after this long is slow (warning).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan OperationSlowAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Still running after this long: the tracker should have ended it (it times out after an hour) — failing.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan OperationStuckAfter { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long the self-test waits for the processor to take its test delivery.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan SelfTestTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
