using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Offers;
using PublisherPortal.Subscriptions;

namespace PublisherPortal.Console.Approvals;

/// <summary>
/// An operator's decisions on activations that wait for approval. Each checks the Operator policy itself, records the
/// decision and its history event in one transaction (the first of two operators wins; the second is told who did),
/// audits it, then does the marketplace part: approve activates through the landing feature's activation path, reject
/// cancels through <see cref="SubscriptionChangeService"/> (DELETE, followed by the operation tracker).
/// </summary>
public sealed partial class ApprovalActions(
    IAuthorizationService authorization,
    PortalDatabase database,
    ActivationApprovalStore approvals,
    SubscriptionStore subscriptions,
    LandingService landing,
    SubscriptionChangeService changes,
    AuditLog audit,
    TimeProvider time,
    ILogger<ApprovalActions> logger)
{
    public const int MaxReasonLength = 500;

    public Task<ConsoleActionResult> ApproveAsync(ClaimsPrincipal user, Guid subscriptionId, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            if (await DecideAsync(subscriptionId, ApprovalStates.Approved, null, actor, ct) is { } lost)
            {
                return lost;
            }

            return await ActivateAsync(subscriptionId, actor, ct);
        });

    /// <summary>The reason is required: the customer is shown it, and the audit keeps it.</summary>
    public Task<ConsoleActionResult> RejectAsync(ClaimsPrincipal user, Guid subscriptionId, string reason, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            var trimmed = reason.Trim();
            if (trimmed.Length == 0 || trimmed.Length > MaxReasonLength)
            {
                return new ConsoleActionResult.Failed($"Give the customer a reason (1 to {MaxReasonLength} characters); nothing was rejected.");
            }

            if (!PublisherPortal.Security.PlainText.IsPlain(trimmed))
            {
                return new ConsoleActionResult.Failed(PublisherPortal.Security.PlainText.Refusal("The reason") + " Nothing was rejected.");
            }

            if (await DecideAsync(subscriptionId, ApprovalStates.Rejected, trimmed, actor, ct) is { } lost)
            {
                return lost;
            }

            return await CancelAsync(subscriptionId, actor, ct);
        });

    /// <summary>Finishes a decision whose marketplace part did not: activates an approved one, cancels a rejected one.</summary>
    public Task<ConsoleActionResult> FinishAsync(ClaimsPrincipal user, Guid subscriptionId, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            var approval = await approvals.FindAsync(subscriptionId, ct);
            ConsoleActionResult result = approval?.State switch
            {
                ApprovalStates.Approved => await ActivateAsync(subscriptionId, actor, ct),
                ApprovalStates.Rejected => await CancelAsync(subscriptionId, actor, ct),
                _ => new ConsoleActionResult.Failed("This activation has not been decided yet."),
            };
            await audit.RecordAsync(actor.Actor, "FinishApproval", subscriptionId, approval?.State, result.GetType().Name, ct);
            return result;
        });

    /// <summary>
    /// Moves the request out of Pending with its history event, or — when another operator was first — says who decided
    /// what, and when. Returns null when this operator's decision was recorded.
    /// </summary>
    private async Task<ConsoleActionResult?> DecideAsync(Guid subscriptionId, string state, string? reason, CurrentUser actor, CancellationToken ct)
    {
        var auditAction = state == ApprovalStates.Approved ? "ApproveActivation" : "RejectActivation";
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var subscription = await subscriptions.FindAsync(subscriptionId, connection, tx, ct);
        var now = time.GetUtcNow();
        if (subscription is null || !await approvals.TryDecideAsync(subscriptionId, state, actor.Actor, reason, now, connection, tx, ct))
        {
            var current = await approvals.FindAsync(subscriptionId, connection, tx, ct);
            await audit.RecordAsync(actor.Actor, auditAction, subscriptionId, reason, current is null ? "NotFound" : "AlreadyDecided", connection, tx, ct);
            await tx.CommitAsync(ct);
            return current is null
                ? new ConsoleActionResult.Failed("There is no approval request for this subscription.")
                : new ConsoleActionResult.Failed(WhoDecided(current));
        }

        var approved = state == ApprovalStates.Approved;
        await subscriptions.AppendEventAsync(SubscriptionEvent.Milestone(
            subscription,
            approved ? EventKinds.ApprovalGranted : EventKinds.ApprovalRejected,
            now,
            EventSources.Operator,
            actor.Actor,
            approved ? "Activation approved; activating in the marketplace." : reason), connection, tx, ct);
        await audit.RecordAsync(actor.Actor, auditAction, subscriptionId, reason, state, connection, tx, ct);
        await tx.CommitAsync(ct);
        Log.Decided(logger, subscriptionId, state, actor.Actor);
        return null;
    }

    private async Task<ConsoleActionResult> ActivateAsync(Guid subscriptionId, CurrentUser actor, CancellationToken ct) =>
        await landing.ActivateApprovedAsync(subscriptionId, actor, ct) switch
        {
            ActivationOutcome.Activated a => new ConsoleActionResult.Done($"Approved: {a.Subscription.Name} is active in the marketplace."),
            ActivationOutcome.AwaitingConfirmation or ActivationOutcome.AlreadyInProgress =>
                new ConsoleActionResult.Done("Approved: the marketplace received the activation and has not confirmed it yet. It stays in the queue until it does."),
            ActivationOutcome.Failed f => new ConsoleActionResult.Failed($"Approved, but the activation did not go through: {f.Explanation} It stays in the queue to try again."),
            ActivationOutcome.NotReady n => new ConsoleActionResult.Failed($"Approved, but it could not be activated: {n.Explanation}"),
            var other => new ConsoleActionResult.Failed($"Approved; the activation ended as {other.GetType().Name}."),
        };

    private async Task<ConsoleActionResult> CancelAsync(Guid subscriptionId, CurrentUser actor, CancellationToken ct) =>
        await changes.RequestCancellationAsync(subscriptionId, actor, EventSources.Operator, ct) switch
        {
            ChangeRequestResult.Started => new ConsoleActionResult.Done("Rejected: the customer sees the reason, and the marketplace is cancelling the subscription."),
            ChangeRequestResult.AlreadyPending => new ConsoleActionResult.Done("Rejected: a cancellation is already under way in the marketplace."),
            ChangeRequestResult.NotAllowed n => new ConsoleActionResult.Done($"Rejected. No cancellation was sent: {n.Reason}"),
            ChangeRequestResult.Refused r => new ConsoleActionResult.Failed($"Rejected, but the marketplace refused the cancellation: {r.Reason} It stays in the queue."),
            ChangeRequestResult.Unavailable u => new ConsoleActionResult.Failed($"Rejected, but the cancellation could not be sent: {u.Reason} It stays in the queue."),
            _ => new ConsoleActionResult.Failed("Rejected; the cancellation's outcome is unknown."),
        };

    private static string WhoDecided(ActivationApproval approval) => approval.State switch
    {
        ApprovalStates.Approved => $"{approval.DecidedBy} approved this activation at {ConsoleActionText.Time(approval.DecidedAt)}; nothing more was done.",
        ApprovalStates.Rejected => $"{approval.DecidedBy} rejected this activation at {ConsoleActionText.Time(approval.DecidedAt)} (\"{approval.Reason}\"); nothing more was done.",
        _ => "The request changed meanwhile; reload the queue.",
    };

    private async Task<ConsoleActionResult> AsOperatorAsync(ClaimsPrincipal user, Func<CurrentUser, Task<ConsoleActionResult>> action)
    {
        var actor = CurrentUser.From(user);
        if (!(await authorization.AuthorizeAsync(user, Policies.Operator)).Succeeded)
        {
            Log.Denied(logger, actor.Actor);
            return new ConsoleActionResult.Denied();
        }

        return await action(actor);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Approval action refused: {Actor} does not hold the Operator role")]
        public static partial void Denied(ILogger logger, string actor);

        [LoggerMessage(Level = LogLevel.Information, Message = "Activation of {SubscriptionId} {State} by {Actor}")]
        public static partial void Decided(ILogger logger, Guid subscriptionId, string state, string actor);
    }
}
