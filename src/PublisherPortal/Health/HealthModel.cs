namespace PublisherPortal.Health;

public enum HealthState
{
    Healthy,
    Warning,
    Failing,
}

/// <summary>One line under a check on the page, e.g. "Last rejected: 10:02 — issuer not accepted".</summary>
public sealed record CheckDetail(string Label, string Value);

/// <summary>
/// What one check found. <see cref="Figure"/> travels to the log and the alert webhook, so it holds numbers and times
/// only; <see cref="Details"/> (which may name a customer's contact for follow-up) stays on the page.
/// </summary>
public sealed record CheckResult(
    string Key,
    string Title,
    HealthState State,
    string Figure,
    DateTimeOffset CheckedAt,
    IReadOnlyList<CheckDetail> Details)
{
    public static CheckResult Of(IIntegrationCheck check, HealthState state, string figure, DateTimeOffset now, params CheckDetail[] details) =>
        new(check.Key, check.Title, state, figure, now, details);
}

/// <summary>One thing the person on call wants to know about the marketplace link.</summary>
public interface IIntegrationCheck
{
    /// <summary>Stable id, the primary key of its row in health_checks.</summary>
    string Key { get; }

    string Title { get; }

    /// <summary>Runs the check as of <paramref name="now"/>. Read-only: a check never changes what it looks at.</summary>
    Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct);
}

/// <summary>Readable durations for figures: "3 d 4 h", "12 min", "8 s".</summary>
public static class Durations
{
    public static string Describe(TimeSpan span)
    {
        var s = span.Duration();
        var text = s.TotalDays >= 1 ? (s.Hours == 0 ? $"{(int)s.TotalDays} d" : $"{(int)s.TotalDays} d {s.Hours} h")
            : s.TotalHours >= 1 ? (s.Minutes == 0 ? $"{(int)s.TotalHours} h" : $"{(int)s.TotalHours} h {s.Minutes} min")
            : s.TotalMinutes >= 1 ? $"{(int)s.TotalMinutes} min"
            : $"{(int)s.TotalSeconds} s";
        return span < TimeSpan.Zero ? "-" + text : text;
    }

    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
}
