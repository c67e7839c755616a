using Dapper;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;

namespace PublisherPortal.Notifications;

/// <summary>A template as a recipient would read it, and what is wrong with it.</summary>
public sealed record PreviewResult(string Subject, string Body, IReadOnlyList<string> Recipients, IReadOnlyList<string> UnknownPlaceholders)
{
    public bool CanSave => UnknownPlaceholders.Count == 0;
}

/// <summary>A subscription to preview against.</summary>
public sealed record PreviewSubscription(Guid Id, string Name, string OfferId);

/// <summary>
/// Renders a template the admin page is editing, with the same rules as a real mail (<see cref="MailTemplate"/>,
/// <see cref="MailFacts"/>), against the sample subscription or a real one.
/// </summary>
public sealed class TemplatePreview(PortalDatabase database, PortalAddress portal, IOptions<NotificationOptions> options, TimeProvider time)
{
    public PreviewResult Render(Notification notification, string subject, string body, MailSubscription? subscription = null)
    {
        var target = subscription ?? MailSubscription.Sample;
        var cause = SampleCause(notification, target, time.GetUtcNow());
        var reason = notification.EventKind switch
        {
            EventKinds.ApprovalRejected => "we could not verify the organisation",
            EventKinds.ChangeRefused => "ChangeQuantity refused: fewer than the 10 seats in use",
            NotificationCatalog.AcknowledgementFailedEvent => "Success for operation 5d1c… (ChangePlan): refused for good: 400",
            _ => null,
        };
        var facts = MailFacts.Of(target, cause, reason, notification.Audience, portal.Base, time.GetUtcNow());
        // The preview shows the welcome mail's administrator only; the offer's "also to the beneficiary" switch adds one.
        var recipients = notification.Audience == Audience.Operators ? options.Value.OperatorAddresses
            : notification == NotificationCatalog.ActivationDone ? target.WelcomeRecipients(copyBeneficiary: false)
            : target.CustomerRecipients();
        return new PreviewResult(
            MailTemplate.Render(subject, facts),
            MailTemplate.Render(body, facts),
            recipients,
            [.. MailTemplate.UnknownPlaceholders(subject).Concat(MailTemplate.UnknownPlaceholders(body)).Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>The most recently seen subscriptions, for the preview's picker.</summary>
    public async Task<IReadOnlyList<PreviewSubscription>> RecentSubscriptionsAsync(int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<PreviewSubscription>(new CommandDefinition(
            "SELECT id, name, offer_id FROM subscriptions ORDER BY first_seen_at DESC, id LIMIT @limit", new { limit }, cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<MailSubscription?> FindAsync(Guid id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<MailSubscription>(new CommandDefinition("""
            SELECT id, name, offer_id, plan_id, quantity, status, beneficiary_email, purchaser_email, account_admin_email
            FROM subscriptions WHERE id = @id
            """, new { id }, cancellationToken: ct));
    }

    /// <summary>An event of the notification's kind, so "from → to" placeholders show something plausible.</summary>
    private static SubscriptionEvent SampleCause(Notification notification, MailSubscription s, DateTimeOffset at) => new()
    {
        SubscriptionId = s.Id,
        OfferId = s.OfferId,
        OccurredAt = at,
        Kind = notification.EventKind,
        FromPlan = notification.EventKind == EventKinds.PlanChanged ? "starter" : s.PlanId,
        ToPlan = s.PlanId,
        FromQuantity = notification.EventKind == EventKinds.QuantityChanged && s.Quantity is { } q ? Math.Max(1, q - 5) : s.Quantity,
        ToQuantity = s.Quantity,
        ToStatus = s.Status,
    };
}
