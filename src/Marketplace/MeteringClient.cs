using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Marketplace.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Marketplace;

/// <summary>
/// The metering service API over HTTP (docs/marketplace.md#metering), with the fulfillment client's headers, token, error parsing and
/// resilience pipeline (registered by <c>AddMarketplaceClient</c> on its own named HttpClient).
/// </summary>
/// <remarks>
/// Retry safety, decided here: a usage POST that failed with a 5xx or timed out may or may not have been recorded, so in
/// general it would be unsafe to repeat. It is safe for usage because the marketplace keeps at most one event per
/// resource, dimension and hour and answers a second one with 409 carrying the event it accepted (docs/marketplace.md#metering). A retry
/// sends the very same bytes, so it is either accepted (the first attempt never landed) or answered "Duplicate" with the
/// first attempt's event — both reach the caller as a result, never as a second charge. Both usage calls are therefore
/// marked <see cref="RetrySafety.Idempotent"/>. What the dedup does not protect is a *different* quantity for an hour
/// already reported: that comes back Duplicate with the earlier quantity, which callers must compare with their own.
/// </remarks>
public sealed class MeteringClient(
    HttpClient http,
    IMarketplaceTokenProvider tokens,
    IOptions<MarketplaceClientOptions> options,
    TimeProvider time,
    ILogger<MeteringClient> logger) : IMeteringClient
{
    private readonly MarketplaceClientOptions _options = options.Value;
    private readonly MarketplaceRequestSender _sender = new(http, tokens, time, logger, "Metering");
    private Uri BaseUri => MarketplaceClientOptions.WithTrailingSlash(_options.BaseUri);

    public async Task<UsageEventResult> ReportUsageAsync(UsageEvent usage, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(usage);
        Validate(usage, nameof(usage));

        var answer = await SendAsync(HttpMethod.Post, ApiUri("usageEvent"), JsonBody.Of(usage), correlationId, ct, conflictIsAnswer: true)
            .ConfigureAwait(false);

        if (answer.Status == HttpStatusCode.Conflict)
        {
            // The 409 of a duplicate carries the event accepted earlier for that hour: the usage is billed, once.
            var conflict = answer.ReadOptional<UsageEventError>();
            var accepted = conflict?.AdditionalInfo?.AcceptedMessage
                ?? throw new MarketplaceException(answer.Status, conflict?.Code ?? "Conflict",
                    conflict?.Message ?? "The marketplace answered 409 without the accepted event.", answer.RequestId, answer.Body);
            return accepted with { Status = UsageEventStatus.Duplicate, Error = conflict! with { AdditionalInfo = null } };
        }

        return answer.ReadOptional<UsageEventResult>() ?? throw answer.InvalidResponse(null);
    }

    public async Task<BatchUsageEventResult> ReportUsageBatchAsync(
        IReadOnlyList<UsageEvent> usage, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(usage);
        if (usage.Count is 0 or > BatchUsageEventRequest.MaxEvents)
        {
            // The marketplace refuses more than 25 with a 400 for the whole batch (docs/marketplace.md#metering): say so before sending.
            throw new ArgumentException(
                $"A usage batch holds 1 to {BatchUsageEventRequest.MaxEvents} events; {usage.Count} given.", nameof(usage));
        }

        foreach (var e in usage)
        {
            Validate(e, nameof(usage));
        }

        var answer = await SendAsync(
            HttpMethod.Post, ApiUri("batchUsageEvent"), JsonBody.Of(new BatchUsageEventRequest { Request = usage }), correlationId, ct,
            conflictIsAnswer: false).ConfigureAwait(false);
        return answer.ReadOptional<BatchUsageEventResult>() ?? new BatchUsageEventResult();
    }

    public async Task<IReadOnlyList<ReportedUsage>> GetReportedUsageAsync(
        ReportedUsageQuery query, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filter = new StringBuilder();
        Append(filter, "usageStartDate", Iso(query.UsageStartDate));
        Append(filter, "usageEndDate", query.UsageEndDate is { } end ? Iso(end) : null);
        Append(filter, "offerId", query.OfferId);
        Append(filter, "planId", query.PlanId);
        Append(filter, "dimension", query.Dimension);
        Append(filter, "resourceId", query.ResourceId?.ToString());

        var answer = await SendAsync(HttpMethod.Get, ApiUri("usageEvents", filter.ToString()), JsonBody.None, correlationId, ct, conflictIsAnswer: false)
            .ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(answer.Body))
        {
            return [];
        }

        try
        {
            // Lenient in what we accept: a bare array, or an object wrapping it in "value" or "usageEvents".
            using var document = JsonDocument.Parse(answer.Body);
            var list = document.RootElement.ValueKind switch
            {
                JsonValueKind.Array => document.RootElement,
                JsonValueKind.Object when TryProperty(document.RootElement, "value", out var v) => v,
                JsonValueKind.Object when TryProperty(document.RootElement, "usageEvents", out var u) => u,
                _ => default,
            };
            return list.ValueKind == JsonValueKind.Array
                ? list.Deserialize<List<ReportedUsage>>(MarketplaceJson.Options) ?? []
                : [];
        }
        catch (JsonException ex)
        {
            throw answer.InvalidResponse(ex);
        }
    }

    private static void Validate(UsageEvent usage, string parameter)
    {
        // Strict in what we send: the marketplace would refuse these anyway, after a round trip.
        if (usage.Quantity <= 0)
        {
            throw new ArgumentException($"Usage quantity must be greater than zero ({usage.Dimension}: {usage.Quantity}).", parameter);
        }

        if (string.IsNullOrWhiteSpace(usage.Dimension) || string.IsNullOrWhiteSpace(usage.PlanId))
        {
            throw new ArgumentException("Usage needs a dimension and a plan id.", parameter);
        }
    }

    private static string Iso(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }

    private static bool TryProperty(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private Uri ApiUri(string path, string? extraQuery = null) =>
        new(BaseUri, $"{path}?api-version={Uri.EscapeDataString(_options.ApiVersion)}{extraQuery}");

    /// <summary>
    /// See the class remarks: the marketplace's hourly dedup makes every metering call safe to repeat, and an unanswered
    /// usage call is simply sent again later. A 400 of a usage call names the reason in details[].code (Expired,
    /// InvalidDimension…), so a refusal keeps its body.
    /// </summary>
    private Task<MarketplaceAnswer> SendAsync(
        HttpMethod method, Uri uri, JsonBody body, Guid correlationId, CancellationToken ct, bool conflictIsAnswer) =>
        _sender.SendAsync(method, uri, body, RetrySafety.Idempotent, correlationId, ct, conflictIsAnswer: conflictIsAnswer, keepErrorBody: true);
}
