using System.Security.Claims;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Identity;

namespace PublisherPortal.Metering;

/// <summary>Usage of one dimension in the current billing period against what the plan includes.</summary>
public sealed record DimensionUsage(
    string Dimension, string DisplayName, string? UnitOfMeasure, decimal Included, decimal Billed, decimal NotYetBilled, decimal NotBillable)
{
    /// <summary>Usage counted towards the plan: billed plus what is still on its way.</summary>
    public decimal Counted => Billed + NotYetBilled;

    /// <summary>Usage beyond the plan's included quantity (meteredQuantityIncluded), charged per unit by the marketplace.</summary>
    public decimal Overage => Math.Max(0, Counted - Included);
}

/// <summary>Everything the per-subscription usage component shows.</summary>
public sealed record SubscriptionUsageView(
    SubscriptionRecord Subscription,
    bool PlanKnown,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    IReadOnlyList<DimensionUsage> Dimensions,
    IReadOnlyList<UsageHour> Hours,
    IReadOnlyList<OpenUsage> Open);

public enum RequeueOutcome
{
    Requeued,
    NotAllowed,
    NotFailed,
}

/// <summary>What the metering console pages ask for, and the one thing they change (send a refused hour again).</summary>
public sealed class MeteringConsole(
    UsageStore usage, SubscriptionStore subscriptions, MeteringPlans plans, AuditLog audit, TimeProvider time)
{
    private const int ListLimit = 200;

    public Task<IReadOnlyList<UsageStateCount>> CountsAsync(CancellationToken ct = default) => usage.CountByStateAsync(ct);

    public Task<IReadOnlyList<UsageHour>> NeedingAttentionAsync(CancellationToken ct = default) => usage.NeedingAttentionAsync(ListLimit, ct);

    public Task<IReadOnlyList<UsageHour>> QueueAsync(CancellationToken ct = default) => usage.QueueAsync(ListLimit, ct);

    public Task<IReadOnlyList<OpenUsage>> OpenUsageAsync(CancellationToken ct = default) => usage.OpenUsageAsync(null, ListLimit, ct);

    /// <summary>Operators only: puts a Failed hour back in the queue; recorded in the audit log either way.</summary>
    public async Task<RequeueOutcome> RequeueAsync(long hourId, ClaimsPrincipal user, CancellationToken ct = default)
    {
        var actor = CurrentUser.From(user).Actor;
        var hour = await usage.FindHourAsync(hourId, ct);
        if (!user.IsInRole(Roles.Operator) && !user.IsInRole(Roles.Admin))
        {
            await audit.RecordAsync(actor, "metering.requeue", hour?.SubscriptionId, $"hour {hourId}", "NotAllowed", ct);
            return RequeueOutcome.NotAllowed;
        }

        var requeued = await usage.RequeueFailedAsync(hourId, time.GetUtcNow(), ct);
        await audit.RecordAsync(actor, "metering.requeue", hour?.SubscriptionId,
            hour is null ? $"hour {hourId}" : $"{hour.Dimension} {hour.HourStart:u} ({hour.ResultStatus})", requeued ? "Requeued" : "NotFailed", ct);
        return requeued ? RequeueOutcome.Requeued : RequeueOutcome.NotFailed;
    }

    /// <summary>The subscription's usage by dimension and hour over the last <paramref name="days"/>, with the period's overage.</summary>
    public async Task<SubscriptionUsageView?> ForSubscriptionAsync(Guid subscriptionId, int days, CancellationToken ct = default)
    {
        var subscription = await subscriptions.FindAsync(subscriptionId, ct);
        if (subscription is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var (periodStart, periodEnd) = BillingPeriod(subscription, now);
        var from = UsageTime.HourOf(now).AddDays(-Math.Max(1, days));
        var to = UsageTime.HourOf(now).AddHours(1);
        var hours = await usage.HoursForSubscriptionAsync(subscriptionId, from < periodStart ? from : periodStart, to, ct);
        var open = await usage.OpenUsageAsync(subscriptionId, ListLimit, ct);
        var plan = await plans.FindAsync(subscriptionId, subscription.OfferId, subscription.PlanId, ct);

        var inPeriod = hours.Where(h => h.HourStart >= periodStart && h.HourStart < periodEnd).ToList();
        var names = MeteringPlans.DimensionsOf(plan).Select(d => d.Id)
            .Concat(hours.Select(h => h.Dimension)).Concat(open.Select(o => o.Dimension))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var dimensions = names.Select(name =>
        {
            var known = MeteringPlans.DimensionsOf(plan).FirstOrDefault(d => d.Id == name);
            var mine = inPeriod.Where(h => h.Dimension == name).ToList();
            return new DimensionUsage(
                name,
                known?.DisplayName ?? name,
                known?.UnitOfMeasure,
                MeteringPlans.IncludedUnits(plan, name),
                Billed: mine.Where(h => UsageHourStates.IsBilled(h.State)).Sum(h => h.BilledQuantity ?? h.Quantity),
                NotYetBilled: mine.Where(h => h.State is UsageHourStates.Pending or UsageHourStates.Submitting).Sum(h => h.Quantity)
                    + open.Where(o => o.Dimension == name && o.HourStart >= periodStart).Sum(o => UsageQuantity.FromMicros(o.QuantityMicros)),
                NotBillable: mine.Where(h => h.State is UsageHourStates.Failed or UsageHourStates.Expired).Sum(h => h.Quantity)
                    + mine.Sum(h => h.LateQuantity));
        }).ToList();

        return new SubscriptionUsageView(subscription, plan is not null, periodStart, periodEnd, dimensions,
            [.. hours.Where(h => h.HourStart >= from)], open);
    }

    /// <summary>The current term when the marketplace gave one, else the calendar month (UTC).</summary>
    private static (DateTimeOffset Start, DateTimeOffset End) BillingPeriod(SubscriptionRecord s, DateTimeOffset now)
    {
        if (s.TermStart is { } start && s.TermEnd is { } end && start <= now && now < end.AddDays(1))
        {
            return (start, end.AddDays(1));
        }

        var month = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (month, month.AddMonths(1));
    }
}
