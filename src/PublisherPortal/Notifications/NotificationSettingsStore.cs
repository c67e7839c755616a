using System.Data.Common;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Notifications;

/// <summary>The wording a mail is sent with: an Admin's template, or the built-in default.</summary>
public sealed record MailWording(string Subject, string Body, bool IsCustom, DateTimeOffset? UpdatedAt = null, string? UpdatedBy = null);

/// <summary>One offer's switch for one notification.</summary>
public sealed record NotificationSwitch
{
    public string OfferId { get; init; } = "";
    public string Notification { get; init; } = "";

    /// <summary>A property, not a constructor argument: SQLite hands Dapper an integer here, PostgreSQL a boolean.</summary>
    public bool Enabled { get; init; }
}

/// <summary>
/// The notification_templates and notification_switches tables: what Admins configure without a redeploy. Every write
/// is audited in the same transaction.
/// </summary>
public sealed class NotificationSettingsStore(PortalDatabase database, AuditLog audit, TimeProvider time)
{
    public const string TemplateChangedAction = "NotificationTemplateChanged";
    public const string TemplateResetAction = "NotificationTemplateReset";
    public const string SwitchChangedAction = "NotificationSwitchChanged";

    public async Task<MailWording> WordingAsync(Notification notification, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await WordingAsync(notification, connection, null, ct);
    }

    public async Task<MailWording> WordingAsync(Notification notification, DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var custom = await connection.QuerySingleOrDefaultAsync<TemplateRow>(new CommandDefinition(
            "SELECT subject, body, updated_at, updated_by FROM notification_templates WHERE notification = @name",
            new { name = notification.Name }, tx, cancellationToken: ct));
        return custom is null
            ? new MailWording(notification.DefaultSubject, notification.DefaultBody, IsCustom: false)
            : new MailWording(custom.Subject, custom.Body, IsCustom: true, custom.UpdatedAt, custom.UpdatedBy);
    }

    public async Task SaveWordingAsync(Notification notification, string subject, string body, string actor, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO notification_templates (notification, subject, body, updated_at, updated_by)
            VALUES (@name, @subject, @body, @now, @actor)
            ON CONFLICT (notification) DO UPDATE SET subject = excluded.subject, body = excluded.body,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """, new { name = notification.Name, subject, body, now = time.GetUtcNow(), actor }, tx, cancellationToken: ct));
        await audit.RecordAsync(actor, TemplateChangedAction, null, $"{notification.Name}: subject \"{subject}\"", "Saved", connection, tx, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Back to the built-in wording.</summary>
    public async Task ResetWordingAsync(Notification notification, string actor, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM notification_templates WHERE notification = @name", new { name = notification.Name }, tx, cancellationToken: ct));
        await audit.RecordAsync(actor, TemplateResetAction, null, notification.Name, "Reset", connection, tx, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>On unless an Admin turned it off for this offer.</summary>
    public async Task<bool> IsEnabledAsync(string offerId, Notification notification, DbConnection connection, DbTransaction? tx, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(
            "SELECT enabled FROM notification_switches WHERE offer_id = @offerId AND notification = @name",
            new { offerId, name = notification.Name }, tx, cancellationToken: ct)) ?? true;

    /// <summary>A recipient option for this offer: its default (<see cref="RecipientOption.OnByDefault"/>) unless an Admin set it.</summary>
    public async Task<bool> IsOnAsync(string offerId, RecipientOption option, DbConnection connection, DbTransaction? tx, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(
            "SELECT enabled FROM notification_switches WHERE offer_id = @offerId AND notification = @name",
            new { offerId, name = option.Name }, tx, cancellationToken: ct)) ?? option.OnByDefault;

    /// <summary>The switches an Admin turned off or on explicitly; anything not listed is on.</summary>
    public async Task<IReadOnlyList<NotificationSwitch>> SwitchesAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<NotificationSwitch>(new CommandDefinition(
            "SELECT offer_id, notification, enabled FROM notification_switches ORDER BY offer_id, notification", cancellationToken: ct));
        return rows.AsList();
    }

    public Task SetEnabledAsync(string offerId, Notification notification, bool enabled, string actor, CancellationToken ct = default) =>
        SetSwitchAsync(offerId, notification.Name, enabled, actor, ct);

    public Task SetEnabledAsync(string offerId, RecipientOption option, bool enabled, string actor, CancellationToken ct = default) =>
        SetSwitchAsync(offerId, option.Name, enabled, actor, ct);

    private async Task SetSwitchAsync(string offerId, string name, bool enabled, string actor, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO notification_switches (offer_id, notification, enabled, updated_at, updated_by)
            VALUES (@offerId, @name, @enabled, @now, @actor)
            ON CONFLICT (offer_id, notification) DO UPDATE SET enabled = excluded.enabled,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """, new { offerId, name, enabled, now = time.GetUtcNow(), actor }, tx, cancellationToken: ct));
        await audit.RecordAsync(actor, SwitchChangedAction, null, $"{offerId}/{name}: {(enabled ? "on" : "off")}", "Saved", connection, tx, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The offers an Admin can switch: every offer we sold or list plans for.</summary>
    public async Task<IReadOnlyList<string>> OffersAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT offer_id FROM plans UNION SELECT offer_id FROM subscriptions ORDER BY 1
            """, cancellationToken: ct));
        return rows.AsList();
    }

    private sealed record TemplateRow
    {
        public string Subject { get; init; } = "";
        public string Body { get; init; } = "";
        public DateTimeOffset UpdatedAt { get; init; }
        public string UpdatedBy { get; init; } = "";
    }
}
