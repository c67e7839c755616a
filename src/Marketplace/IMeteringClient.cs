using Marketplace.Models;

namespace Marketplace;

/// <summary>The marketplace metering service API (docs/marketplace.md#metering), used to bill usage beyond a plan's flat price.</summary>
public interface IMeteringClient
{
    /// <summary>
    /// Reports one usage event. A duplicate (409: the marketplace already holds an event for that resource, dimension
    /// and hour) is a result with status <see cref="UsageEventStatus.Duplicate"/> describing the accepted event, not an
    /// exception; any other refusal throws <see cref="MarketplaceException"/>.
    /// </summary>
    Task<UsageEventResult> ReportUsageAsync(UsageEvent usage, Guid correlationId, CancellationToken ct = default);

    /// <summary>
    /// Reports up to 25 usage events in one call; each comes back with its own status.
    /// More than 25 (or none) throws <see cref="ArgumentException"/> before anything is sent.
    /// </summary>
    Task<BatchUsageEventResult> ReportUsageBatchAsync(IReadOnlyList<UsageEvent> usage, Guid correlationId, CancellationToken ct = default);

    /// <summary>The usage the marketplace holds, filtered by date, offer, plan, dimension and subscription.</summary>
    Task<IReadOnlyList<ReportedUsage>> GetReportedUsageAsync(ReportedUsageQuery query, Guid correlationId, CancellationToken ct = default);
}
