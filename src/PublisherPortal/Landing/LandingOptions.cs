using System.ComponentModel.DataAnnotations;

namespace PublisherPortal.Landing;

public sealed class LandingOptions
{
    public const string Section = "Portal:Landing";

    /// <summary>
    /// Activate's 200 only means "received" (docs/marketplace.md#activate): we confirm with Get, this many times, before telling the
    /// customer we are still waiting.
    /// </summary>
    [Range(1, 60)]
    public int ActivationConfirmAttempts { get; set; } = 5;

    public TimeSpan ActivationConfirmInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An activation claim older than this was left by a caller that died; another may take it over.</summary>
    public TimeSpan ActivationClaimTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often My subscriptions looks at an operation it started, and for how long.</summary>
    public TimeSpan OperationPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan OperationWaitLimit { get; set; } = TimeSpan.FromMinutes(2);
}
