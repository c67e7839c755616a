namespace Marketplace;

/// <summary>
/// Whether repeating a request could do something twice. Set on every request by <see cref="FulfillmentClient"/>
/// and read by the resilience pipeline's retry predicate, which is the only place that decides about retries.
/// </summary>
internal enum RetrySafety
{
    /// <summary>
    /// Repeating it cannot change the outcome: reads (GETs, resolve), activate (the marketplace treats a second
    /// activation as the same one) and the operation-status PATCH (the same status twice; a 409 "already done" is
    /// handled by the caller). Retried on 429, 5xx, 408, network failures and attempt time-outs.
    /// </summary>
    Idempotent,

    /// <summary>
    /// Repeating it might start a second operation: change plan, change quantity, cancel. After a 5xx or a time-out
    /// we cannot know whether the first attempt was carried out, so it is never repeated blindly; the caller checks
    /// outstanding operations instead. Only a 429 is retried, because a throttled request was refused unexecuted.
    /// </summary>
    OnlyWhenThrottled,
}

internal static class RetrySafetyOption
{
    public static readonly HttpRequestOptionsKey<RetrySafety> Key = new("Marketplace.RetrySafety");

    /// <summary>A request nobody marked is treated as unsafe: the cautious default.</summary>
    public static RetrySafety Of(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(Key, out var safety) ? safety : RetrySafety.OnlyWhenThrottled;
}
