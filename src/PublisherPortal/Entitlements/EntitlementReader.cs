using System.Data.Common;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Offers;

namespace PublisherPortal.Entitlements;

/// <summary>
/// Reads entitlements for the product: one subscription, a customer tenant's, or one user's within a tenant. Reads in
/// the caller's transaction too, so an event written with a change carries exactly what that change committed.
/// </summary>
public sealed class EntitlementReader(PortalDatabase database)
{
    /// <summary>How long the marketplace waits for payment before it ends a suspended subscription (docs/marketplace.md, "Webhook actions").</summary>
    public static readonly TimeSpan SuspensionGrace = TimeSpan.FromDays(30);

    // The version is the id of the subscription's latest history event: every change of status, plan, seats or term,
    // and every milestone (configured, awaiting approval) writes one, and ids only grow.
    private const string Select = """
        SELECT s.id, s.name, s.offer_id, s.plan_id, s.quantity, s.status, s.access_enabled,
               s.beneficiary_tenant_id, s.beneficiary_object_id, s.beneficiary_email, s.purchaser_tenant_id,
               s.term_unit, s.term_start, s.term_end, s.auto_renew, s.is_test, s.is_free_trial,
               s.account_settings, s.configured_at, s.updated_at,
               p.display_name AS plan_display_name,
               a.state AS approval_state,
               (SELECT MAX(e.id) FROM subscription_events e WHERE e.subscription_id = s.id) AS version,
               (SELECT MAX(e.occurred_at) FROM subscription_events e
                 WHERE e.subscription_id = s.id AND e.kind = 'Suspended') AS suspended_since
        FROM subscriptions s
        LEFT JOIN plans p ON p.offer_id = s.offer_id AND p.plan_id = s.plan_id
        LEFT JOIN activation_approvals a ON a.subscription_id = s.id
        """;

    public async Task<Entitlement?> FindAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await FindAsync(subscriptionId, connection, null, ct);
    }

    public async Task<Entitlement?> FindAsync(Guid subscriptionId, DbConnection connection, DbTransaction? tx, CancellationToken ct = default)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            Select + " WHERE s.id = @id", new { id = subscriptionId.ToString("D") }, tx, cancellationToken: ct));
        return row is null ? null : From(row);
    }

    /// <summary>Every subscription whose beneficiary is the tenant, oldest first.</summary>
    public async Task<IReadOnlyList<Entitlement>> ForTenantAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        // Tenant ids come from the marketplace in whatever case it sent, so both sides are compared in lower case.
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            Select + " WHERE LOWER(s.beneficiary_tenant_id) = @tenant ORDER BY s.first_seen_at, s.id",
            new { tenant = tenantId.ToString("D") }, cancellationToken: ct));
        return rows.Select(From).ToList();
    }

    /// <summary>
    /// The subscriptions a user of the tenant may use or manages: the beneficiary, the purchaser, or the administrator
    /// the customer named in the set-up wizard, matched by object id or by e-mail (case-insensitive).
    /// </summary>
    public async Task<IReadOnlyList<Entitlement>> ForUserAsync(Guid tenantId, Guid? objectId, string? email, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(Select + """
             WHERE (LOWER(s.beneficiary_tenant_id) = @tenant
                    AND (LOWER(s.beneficiary_object_id) = @objectId OR LOWER(s.beneficiary_email) = @email
                         OR LOWER(s.account_admin_email) = @email))
                OR (LOWER(s.purchaser_tenant_id) = @tenant
                    AND (LOWER(s.purchaser_object_id) = @objectId OR LOWER(s.purchaser_email) = @email))
             ORDER BY s.first_seen_at, s.id
            """,
            new { tenant = tenantId.ToString("D"), objectId = objectId?.ToString("D"), email = email?.Trim().ToLowerInvariant() },
            cancellationToken: ct));
        return rows.Select(From).ToList();
    }

    private static Entitlement From(Row r)
    {
        var status = Enum.TryParse<SubscriptionStatus>(r.Status, ignoreCase: true, out var s) ? s : SubscriptionStatus.Unknown;
        return new Entitlement
        {
            SubscriptionId = r.Id,
            Name = r.Name,
            OfferId = r.OfferId,
            Plan = new EntitlementPlan(r.PlanId, r.PlanDisplayName ?? r.PlanId),
            Seats = r.Quantity,
            Access = AccessOf(status, r),
            Status = status.ToString(),
            Term = new EntitlementTerm(r.TermUnit, r.TermStart, r.TermEnd, r.AutoRenew,
                r.AutoRenew && status is SubscriptionStatus.Subscribed or SubscriptionStatus.Suspended ? r.TermEnd : null),
            Customer = new EntitlementCustomer(r.BeneficiaryTenantId, r.BeneficiaryObjectId, r.BeneficiaryEmail, r.PurchaserTenantId),
            CustomFields = AccountSetup.AnswersFrom(r.AccountSettings),
            IsTest = r.IsTest,
            IsFreeTrial = r.IsFreeTrial,
            Version = r.Version ?? 0,
            UpdatedAt = r.UpdatedAt,
        };
    }

    private static EntitlementAccess AccessOf(SubscriptionStatus status, Row r) => status switch
    {
        SubscriptionStatus.Subscribed => new EntitlementAccess { Granted = true, Detail = "Active." },
        SubscriptionStatus.Suspended => new EntitlementAccess
        {
            Granted = false,
            Reason = AccessReasons.Suspended,
            Detail = "Suspended by the marketplace, usually for a payment problem; it is reinstated when paid, otherwise ended.",
            SuspendedSince = r.SuspendedSince,
            EndsAt = r.SuspendedSince + SuspensionGrace,
        },
        SubscriptionStatus.Unsubscribed => new EntitlementAccess { Granted = false, Reason = AccessReasons.Ended, Detail = "Cancelled or ended." },
        _ when r.ApprovalState == ApprovalStates.Pending => new EntitlementAccess
        {
            Granted = false,
            Reason = AccessReasons.AwaitingApproval,
            Detail = "Set up by the customer; waiting for the publisher to approve it.",
        },
        _ => new EntitlementAccess
        {
            Granted = false,
            Reason = AccessReasons.PendingActivation,
            Detail = r.ConfiguredAt is null
                ? "Bought; the customer has not finished setting up the account."
                : "Set up; activation is not finished yet.",
        },
    };

    private sealed record Row
    {
        public Guid Id { get; init; }
        public string Name { get; init; } = "";
        public string OfferId { get; init; } = "";
        public string PlanId { get; init; } = "";
        public int? Quantity { get; init; }
        public string Status { get; init; } = "";
        public bool AccessEnabled { get; init; }
        public string? BeneficiaryTenantId { get; init; }
        public string? BeneficiaryObjectId { get; init; }
        public string? BeneficiaryEmail { get; init; }
        public string? PurchaserTenantId { get; init; }
        public string? TermUnit { get; init; }
        public DateTimeOffset? TermStart { get; init; }
        public DateTimeOffset? TermEnd { get; init; }
        public bool AutoRenew { get; init; }
        public bool IsTest { get; init; }
        public bool IsFreeTrial { get; init; }
        public string? AccountSettings { get; init; }
        public DateTimeOffset? ConfiguredAt { get; init; }
        public DateTimeOffset UpdatedAt { get; init; }
        public string? PlanDisplayName { get; init; }
        public string? ApprovalState { get; init; }
        public long? Version { get; init; }
        public DateTimeOffset? SuspendedSince { get; init; }
    }
}
