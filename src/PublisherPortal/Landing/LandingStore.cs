using System.Data.Common;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;

namespace PublisherPortal.Landing;

/// <summary>
/// The landing feature's writes to the subscriptions row that are not status/plan/seat changes: the wizard's position,
/// the account answers, and the activation claim. Status changes still go through <see cref="SubscriptionStore.ApplyChangeAsync(SubscriptionChange, CancellationToken)"/>.
/// </summary>
public sealed class LandingStore(PortalDatabase database, TimeProvider time)
{
    /// <summary>True once the subscription has a Resolved event; it is written once, however often the page is opened.</summary>
    public async Task<bool> HasEventAsync(Guid subscriptionId, string kind, DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM subscription_events WHERE subscription_id = @subscriptionId AND kind = @kind
            """, new { subscriptionId, kind }, tx, cancellationToken: ct));
        return count > 0;
    }

    public async Task<bool> HasEventAsync(Guid subscriptionId, string kind, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await HasEventAsync(subscriptionId, kind, connection, null, ct);
    }

    /// <summary>Moves the wizard forward or back, but never out of an activation in flight or a finished one.</summary>
    public async Task MoveToStepAsync(Guid subscriptionId, WizardStep step, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscriptions SET wizard_step = @step
            WHERE id = @subscriptionId AND wizard_step < @activating
            """, new { subscriptionId, step = (int)step, activating = (int)WizardStep.Activating }, cancellationToken: ct));
    }

    public Task SaveAccountAsync(Guid subscriptionId, AccountSetup setup, string actor, DbConnection connection, DbTransaction tx, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscriptions
            SET account_organisation = @organisation, account_admin_name = @adminName, account_admin_email = @adminEmail,
                account_settings = @settings, configured_at = @now, configured_by = @actor,
                wizard_step = CASE WHEN wizard_step < @confirmPlan THEN @confirmPlan ELSE wizard_step END
            WHERE id = @subscriptionId
            """,
            new
            {
                subscriptionId,
                organisation = setup.OrganisationName.Trim(),
                adminName = setup.AdminName.Trim(),
                adminEmail = setup.AdminEmail.Trim(),
                settings = setup.SettingsJson(),
                now = time.GetUtcNow(),
                actor,
                confirmPlan = (int)WizardStep.ConfirmPlan,
            }, tx, cancellationToken: ct));

    /// <summary>
    /// Claims the activation for one caller. The database decides, so a double click, two tabs or two servers activate
    /// once: only the update that moves wizard_step to Activating wins. A claim older than <paramref name="staleBefore"/>
    /// was left by a caller that died mid-call and may be taken over (updated_at holds the claim's time).
    /// </summary>
    public async Task<bool> TryClaimActivationAsync(Guid subscriptionId, DateTimeOffset staleBefore, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var claimed = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscriptions SET wizard_step = @activating, updated_at = @now
            WHERE id = @subscriptionId AND status = @pending AND configured_at IS NOT NULL
              AND (wizard_step < @activating
                   OR (wizard_step = @activating AND updated_at < @staleBefore))
            """,
            new
            {
                subscriptionId,
                activating = (int)WizardStep.Activating,
                pending = nameof(SubscriptionStatus.PendingFulfillmentStart),
                now = time.GetUtcNow(),
                staleBefore,
            }, cancellationToken: ct));
        return claimed == 1;
    }

    /// <summary>Gives the claim back after a refused or failed call, so the customer can try again from the last step.</summary>
    public async Task ReleaseActivationAsync(Guid subscriptionId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscriptions SET wizard_step = @activate
            WHERE id = @subscriptionId AND wizard_step = @activating
            """, new { subscriptionId, activate = (int)WizardStep.Activate, activating = (int)WizardStep.Activating }, cancellationToken: ct));
    }

    public Task MarkDoneAsync(Guid subscriptionId, DbConnection connection, DbTransaction tx, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("""
            UPDATE subscriptions SET wizard_step = @done WHERE id = @subscriptionId
            """, new { subscriptionId, done = (int)WizardStep.Done }, tx, cancellationToken: ct));

    /// <summary>Display names of the plans we know, by (offer, plan).</summary>
    public async Task<IReadOnlyDictionary<(string OfferId, string PlanId), string>> PlanNamesAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<(string OfferId, string PlanId, string DisplayName)>(new CommandDefinition(
            "SELECT offer_id, plan_id, display_name FROM plans", cancellationToken: ct));
        return rows.ToDictionary(r => (r.OfferId, r.PlanId), r => r.DisplayName);
    }

    /// <summary>
    /// Who the welcome mail was queued for (the ActivationDone row of the outbox, written with the Activated event), so
    /// the success page names exactly those people; empty when no welcome mail was queued (switched off for the offer).
    /// </summary>
    public async Task<IReadOnlyList<string>> WelcomeRecipientsAsync(Guid subscriptionId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var recipients = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition("""
            SELECT recipients FROM notification_outbox
            WHERE subscription_id = @subscriptionId AND notification = @notification
            ORDER BY id
            """, new { subscriptionId, notification = Notifications.NotificationCatalog.ActivationDone.Name }, cancellationToken: ct));
        return recipients is null ? [] : recipients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
