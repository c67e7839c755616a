using Dapper;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;

namespace PublisherPortal.Health;

/// <summary>
/// Customers who bought, opened the landing page and never finished activation. They are not billed until activated
/// (docs/marketplace.md#life-cycle), so each one is revenue waiting on a follow-up: the page lists whom to contact. The figure, which also
/// goes to logs and alerts, holds counts only.
/// </summary>
public sealed class AbandonedPurchaseCheck(PortalDatabase database, IOptions<HealthOptions> options) : IIntegrationCheck
{
    private const int Listed = 25;

    public string Key => "abandoned-purchases";

    public string Title => "Abandoned purchases";

    public async Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var after = TimeSpan.FromHours(options.Value.AbandonedPurchaseHours);
        var args = new { pending = nameof(SubscriptionStatus.PendingFulfillmentStart), before = now - after, limit = Listed };
        await using var connection = await database.OpenAsync(ct);
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM subscriptions WHERE status = @pending AND first_seen_at <= @before
            """, args, cancellationToken: ct));
        var oldest = (await connection.QueryAsync<Waiting>(new CommandDefinition("""
            SELECT id, name, offer_id, plan_id, beneficiary_email, purchaser_email, account_admin_email, first_seen_at
            FROM subscriptions WHERE status = @pending AND first_seen_at <= @before
            ORDER BY first_seen_at LIMIT @limit
            """, args, cancellationToken: ct))).AsList();

        if (count == 0)
        {
            return CheckResult.Of(this, HealthState.Healthy, $"None waiting longer than {Durations.Describe(after)}", now);
        }

        var details = oldest.Select(w => new CheckDetail(
            $"{w.Name} ({w.OfferId}/{w.PlanId})",
            $"{Contact(w)} · waiting {Durations.Describe(now - w.FirstSeenAt)} · {w.Id}")).ToList();
        if (count > oldest.Count)
        {
            details.Add(new("…", $"{count - oldest.Count} more"));
        }

        return new CheckResult(Key, Title, HealthState.Warning,
            $"{count} purchases not activated after {Durations.Describe(after)} (oldest {Durations.Describe(now - oldest[0].FirstSeenAt)}); not billed until activated",
            now, details);
    }

    private static string Contact(Waiting w)
    {
        // The beneficiary uses the product; in a reseller purchase the purchaser (the CSP) may be the one to call.
        var contacts = new[] { w.BeneficiaryEmail, w.AccountAdminEmail, w.PurchaserEmail }
            .Where(e => !string.IsNullOrWhiteSpace(e)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return contacts.Count == 0 ? "no contact recorded" : string.Join(", ", contacts);
    }

    private sealed record Waiting
    {
        public Guid Id { get; init; }
        public string Name { get; init; } = "";
        public string OfferId { get; init; } = "";
        public string PlanId { get; init; } = "";
        public string? BeneficiaryEmail { get; init; }
        public string? PurchaserEmail { get; init; }
        public string? AccountAdminEmail { get; init; }
        public DateTimeOffset FirstSeenAt { get; init; }
    }
}
