using CsCheck;

namespace PublisherPortal.Tests.Model;

/// <summary>
/// One thing that happens to subscriptions, from any side: the customer (landing page, My subscriptions), an operator
/// (console), Microsoft (the emulator's simulation API and its webhooks), the network (a fault, a repeated or late
/// delivery) or the host (a restart). <c>Sub</c> picks among the subscriptions bought so far in the sequence (modulo
/// their count); a step with nothing to act on does nothing. ToString is what a failing sequence prints.
/// </summary>
public abstract record Step
{
    /// <summary>A purchase in the marketplace, opened on our landing page by its customer (Alice, or Bob via a reseller).</summary>
    public sealed record Buy(bool Reseller, string Plan, int Seats) : Step
    {
        public override string ToString() => $"Buy({(Reseller ? "reseller" : "direct")}, {Plan}, {Seats})";
    }

    /// <summary>The customer finishes the wizard and activates.</summary>
    public sealed record Activate(int Sub) : Step;

    public sealed record CustomerPlan(int Sub, string Plan) : Step;

    public sealed record CustomerSeats(int Sub, int Seats) : Step;

    public sealed record CustomerCancel(int Sub) : Step;

    /// <summary>An operator's change; with <c>Override</c> the operator gives a reason to override the offer's rules.</summary>
    public sealed record OperatorPlan(int Sub, string Plan, bool Override = false) : Step;

    public sealed record OperatorSeats(int Sub, int Seats, bool Override = false) : Step;

    /// <summary>The customer changes the plan in the marketplace: a ChangePlan webhook we accept or refuse.</summary>
    public sealed record MarketplacePlan(int Sub, string Plan) : Step;

    public sealed record MarketplaceSeats(int Sub, int Seats) : Step;

    public sealed record Suspend(int Sub) : Step;

    public sealed record Reinstate(int Sub) : Step;

    public sealed record Renew(int Sub) : Step;

    public sealed record Unsubscribe(int Sub) : Step;

    /// <summary>An earlier delivery of the subscription comes again: the latest one (a duplicate) or <c>Back</c> before it (out of order).</summary>
    public sealed record Redeliver(int Sub, int Back) : Step;

    /// <summary>The marketplace answers every call of <c>Inner</c> with 429 or 500.</summary>
    public sealed record Faulty(Step Inner) : Step
    {
        public override string ToString() => $"Faulty({Inner})";
    }

    /// <summary>The portal process stops and starts again over the same database.</summary>
    public sealed record Restart : Step
    {
        public override string ToString() => "Restart";
    }

    /// <summary>An Admin sets the offer's change rules (insights-saas).</summary>
    public sealed record Rules(bool AcceptChanges, int? MinimumSeats, bool OnlyTeamToBusiness) : Step;
}

/// <summary>The generator of step sequences. Plans and seat counts straddle the catalogue's bounds on purpose.</summary>
public static class ModelGen
{
    // insights-saas: starter is flat rate, team 1..50 seats, business 5..500 seats (Marketplace.Emulator/EmulatorCatalogue).
    private static readonly Gen<string> Plan = Gen.OneOf("starter", "team", "business");
    private static readonly Gen<int> Seats = Gen.OneOf(0, 1, 4, 5, 10, 50, 51, 600);
    private static readonly Gen<int> Sub = Gen.Int[0, 3];

    // A purchase the marketplace accepts on either per-seat plan (5..50); changes go out of bounds on purpose.
    private static readonly Gen<Step> Buy = Gen.Select(Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true))), Plan, Gen.OneOf(5, 10, 50),
        (r, p, n) => (Step)new Step.Buy(r, p, n));

    // Mostly rules that let changes through, so the changes that follow have something to do.
    private static readonly Gen<Step> Rules = Gen.Select(
        Gen.Frequency((3, Gen.Const(true)), (1, Gen.Const(false))),
        Gen.OneOf(Gen.Const((int?)null), Gen.Const((int?)10)),
        Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true))),
        (a, m, t) => (Step)new Step.Rules(a, m, t));

    private static readonly Gen<Step> Change = Gen.Frequency(
        (3, Gen.Select(Sub, Plan, (s, p) => (Step)new Step.CustomerPlan(s, p))),
        (3, Gen.Select(Sub, Seats, (s, n) => (Step)new Step.CustomerSeats(s, n))),
        (3, Gen.Select(Sub, Plan, Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true))), (s, p, o) => (Step)new Step.OperatorPlan(s, p, o))),
        (3, Gen.Select(Sub, Seats, Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true))), (s, n, o) => (Step)new Step.OperatorSeats(s, n, o))),
        (1, Sub.Select(s => (Step)new Step.CustomerCancel(s))));

    public static readonly Gen<Step> Step = Gen.Frequency(
        (3, Buy),
        (5, Sub.Select(s => (Step)new Step.Activate(s))),
        (12, Change),
        (4, Gen.Select(Sub, Plan, (s, p) => (Step)new Step.MarketplacePlan(s, p))),
        (4, Gen.Select(Sub, Seats, (s, n) => (Step)new Step.MarketplaceSeats(s, n))),
        (2, Sub.Select(s => (Step)new Step.Suspend(s))),
        (2, Sub.Select(s => (Step)new Step.Reinstate(s))),
        (2, Sub.Select(s => (Step)new Step.Renew(s))),
        (1, Sub.Select(s => (Step)new Step.Unsubscribe(s))),
        (3, Gen.Select(Sub, Gen.Int[0, 2], (s, b) => (Step)new Step.Redeliver(s, b))),
        (2, Change.Select(c => (Step)new Step.Faulty(c))),
        (1, Gen.Const((Step)new Step.Restart())),
        (2, Rules));

    /// <summary>A sequence starts with the offer's rules and a purchase, so every sequence has something to act on.</summary>
    public static readonly Gen<Step[]> Sequence =
        Gen.Select(
            Rules,
            Buy,
            Step.Array[1, 10],
            (rules, buy, rest) => (Step[])[rules, buy, new Step.Activate(0), .. rest]);

    public static string Print(Step[] steps) => string.Join(Environment.NewLine, steps.Select((s, i) => $"  {i + 1,2}. {s}"));
}
