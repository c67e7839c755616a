using System.ComponentModel.DataAnnotations;

namespace PublisherPortal.Metering;

/// <summary>Settings of metered billing, bound from the "Metering" section and validated at start-up.</summary>
public sealed class MeteringOptions : IValidatableObject
{
    public const string Section = "Metering";

    /// <summary>
    /// Demo mode: API keys the publisher's product sends in <c>X-Api-Key</c>, by name (the name is recorded as the
    /// source of each usage record). Empty in demo mode means the documented demo key.
    /// </summary>
    public Dictionary<string, string> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Real mode: the Entra tenant that issues the product's app tokens. Defaults to Marketplace:TenantId.</summary>
    public string? TenantId { get; set; }

    /// <summary>Real mode: the audience the product's token must carry. Defaults to AzureAd:ClientId (and its api:// URI).</summary>
    public string? Audience { get; set; }

    /// <summary>Real mode: client ids of the apps allowed to report usage (azp/appid). Required in real mode.</summary>
    public List<string> AllowedClientAppIds { get; set; } = [];

    /// <summary>
    /// How long after an hour ends it is still open for usage. A product that posts a minute late still lands in the
    /// right hour; after this, the hour is summed and sent, and later usage for it is flagged as late.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:30:00", ErrorMessage = "Metering:CloseHourAfter must lie between 0 and 30 minutes.")]
    public TimeSpan CloseHourAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the worker aggregates and submits.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Metering:SubmitInterval must lie between 1 second and 1 hour.")]
    public TimeSpan SubmitInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Batches sent per round at most, so one round never runs for ever.</summary>
    [Range(1, 1000, ErrorMessage = "Metering:MaxBatchesPerRound must lie between 1 and 1000.")]
    public int MaxBatchesPerRound { get; set; } = 40;

    /// <summary>Off in tests that drive <see cref="UsageSubmitter"/> themselves.</summary>
    public bool RunWorker { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, key) in ApiKeys)
        {
            // A short key is guessable; the check is constant-time but not rate-limited.
            if (string.IsNullOrWhiteSpace(key) || key.Length < 16)
            {
                yield return new ValidationResult($"Metering:ApiKeys:{name} must be at least 16 characters.", [nameof(ApiKeys)]);
            }
        }
    }
}
