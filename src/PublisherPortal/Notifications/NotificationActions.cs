using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using MudBlazor;
using PublisherPortal.Data;
using PublisherPortal.Identity;

namespace PublisherPortal.Notifications;

/// <summary>What a page tells the person after an action: how loud, and the sentence.</summary>
public sealed record ActionAnswer(Severity Severity, string Text)
{
    public static ActionAnswer Denied(string who) => new(Severity.Error, $"Only {who} can do this. Nothing was changed.");
}

/// <summary>
/// Every change made from the notification pages. A hidden button is not a permission: each method checks the policy
/// itself (Admin for templates and switches, Operator for "send again"), and each change is audited.
/// </summary>
public sealed class NotificationActions(
    IAuthorizationService authorization,
    NotificationSettingsStore settings,
    NotificationSender sender,
    AuditLog audit)
{
    public const string SendAgainAction = "NotificationSendAgain";

    public async Task<ActionAnswer> SaveTemplateAsync(ClaimsPrincipal user, Notification notification, string subject, string body, CancellationToken ct = default)
    {
        if (!await AllowedAsync(user, Policies.Admin))
        {
            return ActionAnswer.Denied("admins");
        }

        var unknown = MailTemplate.UnknownPlaceholders(subject).Concat(MailTemplate.UnknownPlaceholders(body)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            return new ActionAnswer(Severity.Warning,
                $"Not saved: unknown placeholder{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => "{" + u + "}"))}. Use one of the placeholders listed.");
        }

        if (string.IsNullOrWhiteSpace(subject) || string.IsNullOrWhiteSpace(body))
        {
            return new ActionAnswer(Severity.Warning, "Not saved: a mail needs a subject and a body.");
        }

        await settings.SaveWordingAsync(notification, subject, body, CurrentUser.From(user).Actor, ct);
        return new ActionAnswer(Severity.Success, $"Saved. The next \"{notification.Label}\" mail uses this wording; mails already queued keep theirs.");
    }

    public async Task<ActionAnswer> ResetTemplateAsync(ClaimsPrincipal user, Notification notification, CancellationToken ct = default)
    {
        if (!await AllowedAsync(user, Policies.Admin))
        {
            return ActionAnswer.Denied("admins");
        }

        await settings.ResetWordingAsync(notification, CurrentUser.From(user).Actor, ct);
        return new ActionAnswer(Severity.Success, $"\"{notification.Label}\" is back to the built-in wording.");
    }

    public async Task<ActionAnswer> SetSwitchAsync(ClaimsPrincipal user, string offerId, Notification notification, bool enabled, CancellationToken ct = default)
    {
        if (!await AllowedAsync(user, Policies.Admin))
        {
            return ActionAnswer.Denied("admins");
        }

        await settings.SetEnabledAsync(offerId, notification, enabled, CurrentUser.From(user).Actor, ct);
        return new ActionAnswer(Severity.Success, $"\"{notification.Label}\" mails for {offerId} are {(enabled ? "on" : "off")}.");
    }

    public async Task<ActionAnswer> SetRecipientOptionAsync(ClaimsPrincipal user, string offerId, RecipientOption option, bool enabled, CancellationToken ct = default)
    {
        if (!await AllowedAsync(user, Policies.Admin))
        {
            return ActionAnswer.Denied("admins");
        }

        await settings.SetEnabledAsync(offerId, option, enabled, CurrentUser.From(user).Actor, ct);
        return new ActionAnswer(Severity.Success, $"\"{option.Label}\" for {offerId} is {(enabled ? "on" : "off")}.");
    }

    public async Task<ActionAnswer> SendAgainAsync(ClaimsPrincipal user, OutboxMail mail, CancellationToken ct = default)
    {
        if (!await AllowedAsync(user, Policies.Operator))
        {
            return ActionAnswer.Denied("operators");
        }

        var result = await sender.SendAgainAsync(mail.Id, ct);
        await audit.RecordAsync(CurrentUser.From(user).Actor, SendAgainAction, mail.SubscriptionId, $"mail {mail.Id} ({mail.Notification})", result.ToString(), ct);
        return result switch
        {
            SendAgainResult.Queued => new ActionAnswer(Severity.Info, "Queued: the sender tries it again now."),
            SendAgainResult.AlreadySent => new ActionAnswer(Severity.Info, "That mail was sent in the meantime; nothing to do."),
            _ => new ActionAnswer(Severity.Warning, "That mail no longer exists."),
        };
    }

    public Task<bool> IsOperatorAsync(ClaimsPrincipal user) => AllowedAsync(user, Policies.Operator);

    private async Task<bool> AllowedAsync(ClaimsPrincipal user, string policy) => (await authorization.AuthorizeAsync(user, policy)).Succeeded;
}
