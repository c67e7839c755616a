using System.Net.Http.Json;
using Microsoft.Extensions.Options;

namespace PublisherPortal.Health;

/// <summary>
/// Tells people about a change of state: always the log (Error when a check turns failing, Warning when it recovers or
/// turns to warning), and the configured incoming webhook (Teams, Slack: {"text": …}) when failing begins or ends.
/// The text holds the check's title and figure only — figures carry no secret, token or personal data.
/// </summary>
public sealed partial class HealthAlerts(
    IHttpClientFactory httpClients,
    IOptions<HealthOptions> options,
    ILogger<HealthAlerts> logger)
{
    public const string ClientName = "health-alerts";

    /// <summary>Announces one change. False when the alert webhook could not be reached (the caller tries again later).</summary>
    public async Task<bool> AnnounceAsync(StateChange change, string title, CancellationToken ct = default)
    {
        switch (change.To)
        {
            case HealthState.Failing:
                Log.TurnedFailing(logger, title, change.From, change.Figure);
                break;
            case HealthState.Warning:
                Log.TurnedWarning(logger, title, change.From, change.Figure);
                break;
            default:
                Log.Recovered(logger, title, change.From, change.Figure);
                break;
        }

        // Warnings are for the health page; only failing (and its end) is worth waking someone up for.
        var worthAnAlert = change.To == HealthState.Failing || change.From == HealthState.Failing;
        if (!worthAnAlert || options.Value.AlertWebhookUrl is not { } url)
        {
            return true;
        }

        var text = change.To == HealthState.Failing
            ? $"🔴 PublisherPortal: {title} is FAILING — {change.Figure}"
            : $"✅ PublisherPortal: {title} recovered ({change.To.ToString().ToLowerInvariant()}) — {change.Figure}";
        try
        {
            using var response = await httpClients.CreateClient(ClientName).PostAsJsonAsync(url, new { text }, ct);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            Log.AlertRefused(logger, title, (int)response.StatusCode);
            return false;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The URL itself may hold a secret (incoming-webhook URLs do): never log it, only what went wrong.
            Log.AlertUnreachable(logger, title, e.GetType().Name);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Integration health: {Check} turned failing (was {Previous}): {Figure}")]
        public static partial void TurnedFailing(ILogger logger, string check, HealthState previous, string figure);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Integration health: {Check} turned warning (was {Previous}): {Figure}")]
        public static partial void TurnedWarning(ILogger logger, string check, HealthState previous, string figure);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Integration health: {Check} recovered (was {Previous}): {Figure}")]
        public static partial void Recovered(ILogger logger, string check, HealthState previous, string figure);

        [LoggerMessage(Level = LogLevel.Error, Message = "Health alert for {Check} was refused by the alert webhook: {StatusCode}; it will be sent again")]
        public static partial void AlertRefused(ILogger logger, string check, int statusCode);

        [LoggerMessage(Level = LogLevel.Error, Message = "Health alert for {Check} could not reach the alert webhook ({Error}); it will be sent again")]
        public static partial void AlertUnreachable(ILogger logger, string check, string error);
    }
}
