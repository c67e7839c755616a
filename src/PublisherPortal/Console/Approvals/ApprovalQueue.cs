using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Offers;

namespace PublisherPortal.Console.Approvals;

/// <summary>One activation in the operators' queue, with what they need to decide.</summary>
public sealed record ApprovalItem
{
    public Guid SubscriptionId { get; init; }
    public string OfferId { get; init; } = "";
    public string State { get; init; } = "";
    public DateTimeOffset RequestedAt { get; init; }
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset? DecidedAt { get; init; }
    public string? DecidedBy { get; init; }
    public string? Reason { get; init; }
    public string Name { get; init; } = "";
    public string PlanId { get; init; } = "";
    public int? Quantity { get; init; }
    public SubscriptionStatus Status { get; init; }
    public string? BeneficiaryEmail { get; init; }
    public string? AccountOrganisation { get; init; }
    public string? AccountSettings { get; init; }
    public Guid? PendingOperationId { get; init; }

    public bool IsPending => State == ApprovalStates.Pending;

    /// <summary>Approved, but the activation did not reach the marketplace yet: it can be tried again.</summary>
    public bool NeedsActivation => State == ApprovalStates.Approved && Status == SubscriptionStatus.PendingFulfillmentStart;

    /// <summary>Rejected, but the marketplace has not cancelled it and nothing is cancelling it now.</summary>
    public bool NeedsCancellation => State == ApprovalStates.Rejected && Status != SubscriptionStatus.Unsubscribed && PendingOperationId is null;

    public IReadOnlyDictionary<string, string?> Answers => AccountSetup.AnswersFrom(AccountSettings);
}

/// <summary>
/// The approval queue: requests waiting for a decision, oldest first, and decisions whose marketplace follow-up
/// (activation or cancellation) has not finished. Read by operators and finance; decided through <see cref="ApprovalActions"/>.
/// </summary>
public sealed class ApprovalQueue(PortalDatabase database, OfferPolicyStore policies)
{
    /// <summary>More than an operator works through at once; the rest shows after the first are decided.</summary>
    public const int Limit = 200;

    public async Task<IReadOnlyList<ApprovalItem>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        // ix_approvals_state_requested serves the pending part; decided rows are few, and the subscription join is by key.
        var rows = await connection.QueryAsync<ApprovalItem>(new CommandDefinition("""
            SELECT a.subscription_id, a.offer_id, a.state, a.requested_at, a.requested_by, a.decided_at, a.decided_by, a.reason,
                   s.name, s.plan_id, s.quantity, s.status, s.beneficiary_email, s.account_organisation, s.account_settings,
                   o.id AS pending_operation_id
            FROM activation_approvals a
            JOIN subscriptions s ON s.id = a.subscription_id
            LEFT JOIN operations o ON o.subscription_id = a.subscription_id AND o.status = 'InProgress'
            WHERE a.state = @pending
               OR (a.state = @approved AND s.status = 'PendingFulfillmentStart')
               OR (a.state = @rejected AND s.status <> 'Unsubscribed')
            ORDER BY a.requested_at, a.subscription_id
            LIMIT @limit
            """, new { pending = ApprovalStates.Pending, approved = ApprovalStates.Approved, rejected = ApprovalStates.Rejected, limit = Limit },
            cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>The custom fields of each offer in the queue, to label the answers.</summary>
    public async Task<IReadOnlyDictionary<string, OfferPolicy>> PoliciesAsync(IEnumerable<string> offerIds, CancellationToken ct = default)
    {
        var result = new Dictionary<string, OfferPolicy>(StringComparer.Ordinal);
        foreach (var offerId in offerIds.Distinct(StringComparer.Ordinal))
        {
            result[offerId] = await policies.FindAsync(offerId, ct);
        }

        return result;
    }
}
