using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Landing;

namespace PublisherPortal.Tests.Model;

/// <summary>
/// Runs one sequence of steps against <see cref="ModelWorld"/> and checks what must hold after it:
/// <list type="bullet">
/// <item>every subscription in the portal equals the emulator's (status, plan, seats, term, auto-renew);</item>
/// <item>replaying its history gives its current state (Finance's consistency check);</item>
/// <item>a reconciliation of it finds nothing to correct;</item>
/// <item>every refused change is explained: a portal refusal carries a reason, a refused marketplace change has a
/// ChangeRefused event naming the rule; and no change the offer's rules forbid was sent by a customer or an operator.</item>
/// </list>
/// The model of the offer's rules is deliberately small: the rules as the Admin set them (Offers/OfferPolicy).
/// </summary>
public sealed class ModelRunner(ModelWorld world)
{
    private sealed record Bought(Guid Id, CurrentUser Owner, bool Reseller);

    /// <summary>The reason an operator gives to override an offer rule; it must be found in history and audit.</summary>
    public const string OverrideReason = "model: the customer's contract allows it";

    private readonly List<(Guid Subscription, Guid Operation, string Rule)> _overrides = [];

    public async Task<SequenceLog> RunAsync(IReadOnlyList<Step> steps)
    {
        var log = new SequenceLog();
        var bought = new List<Bought>();
        _overrides.Clear();
        var rules = new Step.Rules(true, null, false);
        foreach (var step in steps)
        {
            if (step is Step.Rules r)
            {
                rules = r;
            }

            var outcome = await ExecuteAsync(step, bought, rules, log);
            log.Note(step, outcome);
            await world.SettleAsync(bought.Select(b => b.Id));
        }

        await CheckAsync(bought, log);
        return log;
    }

    private async Task<string> ExecuteAsync(Step step, List<Bought> bought, Step.Rules rules, SequenceLog log)
    {
        Bought? Pick(int sub) => bought.Count == 0 ? null : bought[sub % bought.Count];
        try
        {
            switch (step)
            {
                case Step.Rules r:
                    await world.SetRulesAsync(r);
                    return "saved";
                case Step.Restart:
                    await world.RestartAsync();
                    return "restarted";
                case Step.Buy buy:
                    return await BuyAsync(buy, bought);
                case Step.Faulty faulty:
                    world.Emulator.Faults.FailureRate = 1;
                    try
                    {
                        return "with faults: " + await ExecuteAsync(faulty.Inner, bought, rules, log);
                    }
                    finally
                    {
                        world.Emulator.Faults.FailureRate = 0;
                    }
            }

            var sub = step switch
            {
                Step.Activate s => Pick(s.Sub),
                Step.CustomerPlan s => Pick(s.Sub),
                Step.CustomerSeats s => Pick(s.Sub),
                Step.CustomerCancel s => Pick(s.Sub),
                Step.OperatorPlan s => Pick(s.Sub),
                Step.OperatorSeats s => Pick(s.Sub),
                Step.MarketplacePlan s => Pick(s.Sub),
                Step.MarketplaceSeats s => Pick(s.Sub),
                Step.Suspend s => Pick(s.Sub),
                Step.Reinstate s => Pick(s.Sub),
                Step.Renew s => Pick(s.Sub),
                Step.Unsubscribe s => Pick(s.Sub),
                Step.Redeliver s => Pick(s.Sub),
                _ => throw new InvalidOperationException($"Unknown step {step}"),
            };
            if (sub is null)
            {
                return "nothing bought yet";
            }

            var simulator = world.Simulator;
            var customers = world.Get<CustomerSubscriptions>();
            var operators = world.Get<OperatorActions>();
            var before = await world.Get<SubscriptionStore>().FindAsync(sub.Id);
            switch (step)
            {
                case Step.Activate:
                    return await ActivateAsync(sub);
                case Step.CustomerPlan s:
                    return Judge(log, "customer", before, s.Plan, null, rules, await customers.ChangePlanAsync(sub.Id, s.Plan, sub.Owner));
                case Step.CustomerSeats s:
                    return Judge(log, "customer", before, null, s.Seats, rules, await customers.ChangeSeatsAsync(sub.Id, s.Seats, sub.Owner));
                case Step.CustomerCancel:
                    return Judge(log, "customer", before, null, null, rules, await customers.CancelAsync(sub.Id, sub.Owner));
                case Step.OperatorPlan s:
                    return JudgeConsole(log, sub.Id, before, s.Plan, null, rules, s.Override,
                        await operators.ChangePlanAsync(ModelWorld.Operator, sub.Id, s.Plan, overrideReason: s.Override ? OverrideReason : null));
                case Step.OperatorSeats s:
                    return JudgeConsole(log, sub.Id, before, null, s.Seats, rules, s.Override,
                        await operators.ChangeSeatsAsync(ModelWorld.Operator, sub.Id, s.Seats, overrideReason: s.Override ? OverrideReason : null));
                case Step.MarketplacePlan s:
                    return $"operation {await simulator.ChangePlanAsync(sub.Id, s.Plan)}";
                case Step.MarketplaceSeats s:
                    return $"operation {await simulator.ChangeQuantityAsync(sub.Id, s.Seats)}";
                case Step.Suspend:
                    return $"operation {await simulator.SuspendAsync(sub.Id)}";
                case Step.Reinstate:
                    return $"operation {await simulator.ReinstateAsync(sub.Id)}";
                case Step.Renew:
                    return $"operation {await simulator.RenewAsync(sub.Id)}";
                case Step.Unsubscribe:
                    return $"operation {await simulator.UnsubscribeAsync(sub.Id)}";
                case Step.Redeliver s:
                    var delivered = simulator.OperationsOf(sub.Id).Where(o => o.RequestSource == "Azure").ToList();
                    if (delivered.Count == 0)
                    {
                        return "no delivery to repeat";
                    }

                    var again = delivered[Math.Max(0, delivered.Count - 1 - s.Back)];
                    return $"{again.Action} {again.Id} delivered again: {await world.RedeliverAsync(again.Id)}";
            }
        }
        catch (SimulationRefusedException e)
        {
            // The marketplace's own rule (e.g. not Subscribed, out of the plan's bounds): nothing happened anywhere.
            return "marketplace refused: " + e.Message;
        }

        throw new InvalidOperationException($"Unhandled step {step}");
    }

    private async Task<string> BuyAsync(Step.Buy buy, List<Bought> bought)
    {
        int? seats = buy.Plan == "starter" ? null : buy.Seats;
        var request = buy.Reseller ? PurchaseRequest.ResellerDemo(buy.Plan, seats) : new PurchaseRequest { PlanId = buy.Plan, Quantity = seats };
        SimulatedPurchase purchase;
        try
        {
            purchase = await world.Simulator.PurchaseAsync(request);
        }
        catch (SimulationRefusedException e)
        {
            return "marketplace refused the purchase: " + e.Message;
        }

        var owner = (buy.Reseller ? DemoIdentities.Bob : DemoIdentities.Alice).AsUser();
        var opened = await world.Get<LandingService>().OpenAsync(purchase.Token, owner);
        bought.Add(new Bought(purchase.SubscriptionId, owner, buy.Reseller));
        return $"#{bought.Count - 1} {purchase.SubscriptionId}: {opened.GetType().Name}";
    }

    private async Task<string> ActivateAsync(Bought sub)
    {
        var landing = world.Get<LandingService>();
        var record = await world.Get<SubscriptionStore>().FindAsync(sub.Id);
        if (record?.ConfiguredAt is null && record?.Status == SubscriptionStatus.PendingFulfillmentStart)
        {
            var setup = LandingServices.ValidSetup();
            setup.AdminEmail = sub.Owner.Email!;
            await landing.SaveSetupAsync(sub.Id, setup, sub.Owner);
        }

        return (await landing.ActivateAsync(sub.Id, sub.Owner)).GetType().Name;
    }

    private string JudgeConsole(
        SequenceLog log, Guid id, SubscriptionRecord? before, string? plan, int? seats, Step.Rules rules, bool overriding, ConsoleActionResult result) =>
        result switch
        {
            ConsoleActionResult.ChangeRequested { Result: ChangeRequestResult.Started started } when overriding
                && before is not null && Forbidding(rules, before, plan, seats) is { } rule
                => Overridden(id, started, rule),
            ConsoleActionResult.ChangeRequested requested => Judge(log, "operator", before, plan, seats, rules, requested.Result),
            ConsoleActionResult.Failed failed => Explained(log, "operator", failed.Message, "not sent: " + failed.Message),
            _ => result.ToString(),
        };

    /// <summary>An operator may override an offer rule with a reason; the reason must then be on record (checked at the end).</summary>
    private string Overridden(Guid id, ChangeRequestResult.Started started, string rule)
    {
        _overrides.Add((id, started.Operation.Id, rule));
        return $"sent overriding rule '{rule}' (operation {started.Operation.Id})";
    }

    /// <summary>A change sent to the marketplace must be one the offer's rules allow; one not sent must say why.</summary>
    private static string Judge(SequenceLog log, string who, SubscriptionRecord? before, string? plan, int? seats, Step.Rules rules, ChangeRequestResult result)
    {
        switch (result)
        {
            case ChangeRequestResult.Started started:
                if (before is not null && Forbidding(rules, before, plan, seats) is { } rule)
                {
                    log.Violation($"[offer rule] a {who} change ({(plan is null ? $"{seats} seats" : $"plan {before.PlanId} -> {plan}")}) was sent to the marketplace although the offer's rule '{rule}' forbids it");
                }

                return $"sent (operation {started.Operation.Id})";
            case ChangeRequestResult.NotAllowed n:
                return Explained(log, who, n.Reason, "not allowed: " + n.Reason);
            case ChangeRequestResult.Refused r:
                return Explained(log, who, r.Reason, "marketplace refused: " + r.Reason);
            case ChangeRequestResult.Unavailable u:
                return Explained(log, who, u.Reason, "unavailable: " + u.Reason);
            case ChangeRequestResult.AlreadyPending:
                return "another change pending";
            default:
                return result.ToString();
        }
    }

    private static string Explained(SequenceLog log, string who, string? reason, string outcome)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            log.Violation($"[explained] a {who} change was refused without a reason");
        }

        return outcome;
    }

    /// <summary>The offer's rule a change breaks, as the Admin set them; null when none does.</summary>
    private static string? Forbidding(Step.Rules rules, SubscriptionRecord s, string? plan, int? seats)
    {
        if (plan is null && seats is null)
        {
            return null; // a cancellation: the offer's change rules do not govern it
        }

        if (!rules.AcceptChanges)
        {
            return "changes accepted: no";
        }

        if (plan is not null && rules.OnlyTeamToBusiness && !(s.PlanId == "team" && plan == "business"))
        {
            return "allowed plan moves: team → business";
        }

        return seats is { } n && rules.MinimumSeats is { } minimum && n < minimum ? $"minimum seats: {minimum}" : null;
    }

    private async Task CheckAsync(List<Bought> bought, SequenceLog log)
    {
        var store = world.Get<SubscriptionStore>();
        foreach (var sub in bought)
        {
            var here = await store.FindAsync(sub.Id);
            var there = world.Simulator.Find(sub.Id);
            if (!Same(here, there))
            {
                log.Violation($"[billing] {sub.Id}: the portal holds {ModelWorld.Describe(here)} but the marketplace bills {ModelWorld.Describe(there)}");
            }

            foreach (var refused in world.Simulator.OperationsOf(sub.Id).Where(o =>
                         o.RequestSource == "Azure" && o.Action is "ChangePlan" or "ChangeQuantity" && o.Status == OperationStatus.Failed
                         && !(o.ErrorMessage ?? "").Contains("unsubscribed", StringComparison.OrdinalIgnoreCase)))
            {
                var history = await store.HistoryAsync(sub.Id);
                if (!history.Any(e => e.OperationId == refused.Id && e.Kind == EventKinds.ChangeRefused && !string.IsNullOrWhiteSpace(e.Detail)))
                {
                    log.Violation($"[explained] {sub.Id}: the marketplace's {refused.Action} {refused.Id} ended refused, but no ChangeRefused event names the rule");
                }
            }
        }

        foreach (var (id, operation, rule) in _overrides)
        {
            var history = await store.HistoryAsync(id);
            if (!history.Any(e => e.OperationId == operation && (e.Detail ?? "").Contains(OverrideReason, StringComparison.Ordinal)))
            {
                log.Violation($"[explained] {id}: an operator overrode rule '{rule}' (operation {operation}) but its history does not record the reason");
            }

            var audit = await world.Get<AuditLog>().ForSubscriptionAsync(id);
            if (!audit.Any(a => (a.Detail ?? "").Contains(OverrideReason, StringComparison.Ordinal)))
            {
                log.Violation($"[explained] {id}: an operator overrode rule '{rule}' but the audit log does not record the reason");
            }
        }

        var ids = bought.Select(b => b.Id).ToHashSet();
        var replay = await world.Get<PointInTimeQuery>().CheckAgainstLiveAsync();
        foreach (var disagreement in replay.Disagreements.Where(d => ids.Contains(d.SubscriptionId)))
        {
            log.Violation($"[history] {disagreement.SubscriptionId}: replaying its history does not give its current state ({System.Text.Json.JsonSerializer.Serialize(disagreement)})");
        }

        // Last, as it would repair what it finds: the reconciler must find nothing.
        var reconciler = world.Get<Reconciler>();
        foreach (var sub in bought)
        {
            var outcome = await reconciler.SyncSubscriptionAsync(sub.Id);
            if (outcome != SyncOutcome.InSync)
            {
                var last = (await store.HistoryAsync(sub.Id)).LastOrDefault();
                log.Violation($"[drift] {sub.Id}: a reconciliation found drift ({outcome}; last history event: {last?.Kind} {last?.Detail})");
            }
        }
    }

    private static bool Same(SubscriptionRecord? here, MarketplaceSubscription? there) =>
        here is not null && there is not null
        && here.Status == there.SaasSubscriptionStatus
        && here.PlanId == there.PlanId
        && here.Quantity == there.Quantity
        && here.TermUnit == there.Term?.TermUnit
        && here.TermEnd?.UtcDateTime.Date == there.Term?.EndDate?.UtcDateTime.Date
        && here.AutoRenew == there.AutoRenew;
}
