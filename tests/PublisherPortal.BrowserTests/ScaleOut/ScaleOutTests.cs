using Dapper;
using PublisherPortal.Data;
using Xunit.Abstractions;

namespace PublisherPortal.BrowserTests.ScaleOut;

/// <summary>
/// Two portal processes behind one (emulated) marketplace and one PostgreSQL database, as a production deployment with
/// a load balancer runs them: webhook work is shared without double work, a crash loses nothing, and a sign-in made
/// on one instance is honoured by the other.
/// </summary>
public sealed class ScaleOutTests(BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    /// <summary>All six webhook actions; two subscriptions each. Suspend-then-reinstate makes one subscription take two.</summary>
    private static readonly string[] Script = ["ChangePlan", "ChangeQuantity", "Renew", "Suspend", "SuspendThenReinstate", "Unsubscribe"];
    private const int SubscriptionsPerStep = 2;
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(120);

    [ScaleOutFact]
    public async Task A_burst_over_two_instances_with_one_killed_midway_applies_and_acknowledges_every_change_once()
    {
        await using var scenario = await ScaleOutScenario.StartAsync();

        // The reference: the same burst, one instance, no crash.
        var single = await scenario.CreateDatabaseAsync();
        var only = await scenario.StartPortalAsync(single);
        scenario.DeliverTo(only);
        var expected = await RunBurstAsync(scenario, single, [only], atHalf: () => Task.CompletedTask, atEnd: () => Task.CompletedTask);
        await only.KillAsync();

        var shared = await scenario.CreateDatabaseAsync();
        // Started together on an empty database: migrations run once, under the advisory lock.
        var starting = new[] { scenario.StartPortalAsync(shared), scenario.StartPortalAsync(shared) };
        var a = await starting[0];
        var b = await starting[1];
        scenario.DeliverTo(a, b);
        PortalProcess? restarted = null;
        var actual = await RunBurstAsync(scenario, shared, [a, b],
            atHalf: a.KillAsync,
            atEnd: async () =>
            {
                restarted = await scenario.StartPortalAsync(shared, a.BaseUrl.Port);
                scenario.DeliverTo(restarted, b);
            });

        // Whole outcomes in the test log: a collection diff alone shows only a window around the first difference.
        output.WriteLine($"single instance ({expected.LateDeliveries} late):\n" + string.Join('\n', [.. expected.History, .. expected.PerOperation]));
        output.WriteLine($"two instances, one killed ({actual.LateDeliveries} late, {actual.FailedDeliveryAttempts} failed attempts):\n"
            + string.Join('\n', [.. actual.History, .. actual.PerOperation]));
        Assert.NotNull(restarted);
        // Deliveries did meet the dead instance, and were retried onto the living one.
        Assert.True(actual.FailedDeliveryAttempts > 0, "no delivery attempt met the killed instance: the crash proved nothing");
        Assert.Equal(expected.History, actual.History);
        Assert.Equal(expected.PerOperation, actual.PerOperation);
        Assert.All(actual.PerOperation, line => Assert.DoesNotContain("=2", line, StringComparison.Ordinal));
        // Not only equal to the reference, which could share a loss: every operation left exactly one history event,
        // whichever order its deliveries arrived in (a Suspend retried past its Reinstate included).
        Assert.All(actual.PerOperation, line => Assert.Contains("applied=1", line, StringComparison.Ordinal));
        Assert.All([.. expected.History, .. actual.History], line => Assert.DoesNotContain(EventKinds.StaleDeliveryIgnored, line, StringComparison.Ordinal));
        // The actions the contract asks us to answer were answered, once each — so the test can fail for silence too.
        Assert.Equal(2 * SubscriptionsPerStep, actual.PerOperation.Count(l => l.Contains("acks=1", StringComparison.Ordinal) && l.Contains("Change", StringComparison.Ordinal)));
        Assert.Equal(SubscriptionsPerStep, actual.PerOperation.Count(l => l.Contains("Reinstate", StringComparison.Ordinal) && l.Contains("acks=1", StringComparison.Ordinal)));
    }

    [ScaleOutFact(NeedsBrowser = true)]
    public async Task Signed_in_through_one_instance_the_next_request_to_the_other_is_still_signed_in()
    {
        await using var scenario = await ScaleOutScenario.StartAsync();
        var database = await scenario.CreateDatabaseAsync();
        var a = await scenario.StartPortalAsync(database);
        var b = await scenario.StartPortalAsync(database);
        var alices = await scenario.ActiveSubscriptionAsync(database, "team", 5);
        using (var http = new HttpClient())
        {
            // What the load balancer probes before it sends B any traffic.
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(new Uri(b.BaseUrl, "healthz/ready"))).StatusCode);
        }

        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(a.BaseUrl, "my/subscriptions").ToString());
        await page.ClickAsync("[data-identity=alice]");
        await page.WaitForSelectorAsync($"[data-subscription-id='{alices}']");
        Assert.StartsWith(a.BaseUrl.ToString(), page.Url, StringComparison.Ordinal);

        // Same cookie, other instance: it must read it with the Data Protection keys from the shared database.
        await page.GotoAsync(new Uri(b.BaseUrl, "my/subscriptions").ToString());
        await page.WaitForSelectorAsync($"[data-subscription-id='{alices}']");
        Assert.StartsWith(b.BaseUrl.ToString(), page.Url, StringComparison.Ordinal);

        // Without the cookie, instance B sends the browser to sign in: the check above is not vacuous.
        await using var stranger = await browser.Browser.NewContextAsync();
        var other = await stranger.NewPageAsync();
        await other.GotoAsync(new Uri(b.BaseUrl, "my/subscriptions").ToString());
        await other.WaitForSelectorAsync("[data-identity=alice]");
        Assert.StartsWith(scenario.Emulator.HttpBaseUri.ToString(), other.Url, StringComparison.Ordinal);
    }

    /// <summary>
    /// Starts every step of the script on fresh subscriptions, each delivery also re-sent (freshly signed) to every
    /// instance, calls <paramref name="atHalf"/> halfway and <paramref name="atEnd"/> after the last step, waits until
    /// everything settled, and returns what happened in terms that do not depend on ids or timing.
    /// </summary>
    private static async Task<BurstOutcome> RunBurstAsync(
        ScaleOutScenario scenario, PortalDatabase database, PortalProcess[] portals, Func<Task> atHalf, Func<Task> atEnd)
    {
        var subscriptions = new List<Guid>();
        for (var i = 0; i < Script.Length * SubscriptionsPerStep; i++)
        {
            subscriptions.Add(await scenario.ActiveSubscriptionAsync(database, "team", 5));
        }

        var operations = new List<(int Index, string Action, Guid Id)>();
        var duplicates = new List<Task>();
        for (var i = 0; i < subscriptions.Count; i++)
        {
            if (i == subscriptions.Count / 2)
            {
                await atHalf();
            }

            foreach (var (action, id) in await StartStepAsync(scenario, subscriptions[i], Script[i % Script.Length]))
            {
                operations.Add((i, action, id));
                duplicates.AddRange(portals.Select(p => scenario.RedeliverAsync(p, id)));
            }
        }

        await Task.WhenAll(duplicates);
        await atEnd();
        await WaitUntilSettledAsync(scenario, database);

        var index = subscriptions.Select((id, i) => (id, i)).ToDictionary(x => x.id.ToString(), x => x.i);
        await using var connection = await database.OpenAsync();
        var events = await connection.QueryAsync<(string SubscriptionId, string Kind, string? FromStatus, string? ToStatus, string? FromPlan, string? ToPlan, int? FromQuantity, int? ToQuantity, string? OperationId)>("""
            SELECT subscription_id, kind, from_status, to_status, from_plan, to_plan, from_quantity, to_quantity, operation_id
            FROM subscription_events ORDER BY occurred_at, id
            """);
        var history = events
            .Select(e => (Index: index[e.SubscriptionId], Line: $"{index[e.SubscriptionId]} {e.Kind} {e.FromStatus}->{e.ToStatus} {e.FromPlan}->{e.ToPlan} {e.FromQuantity}->{e.ToQuantity}"))
            .OrderBy(x => x.Index) // stable: keeps each subscription's own order
            .Select(x => x.Line)
            .ToList();
        var perOperation = operations
            .Select(o => $"{o.Index} {o.Action} applied={events.Count(e => e.OperationId == o.Id.ToString())} acks={scenario.Simulator.StatusUpdatesFor(o.Id).Count}")
            .ToList();
        var failedAttempts = operations.Sum(o => scenario.Simulator.DeliveriesFor(o.Id).Count(attempt => !attempt.Succeeded));
        // For the log: how often a delivery reached the inbox after a newer one of its subscription had been applied.
        var late = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE processing_state = @stale", new { stale = ProcessingStates.Stale });
        return new BurstOutcome(history, perOperation, failedAttempts, late);
    }

    private static async Task<IReadOnlyList<(string Action, Guid Id)>> StartStepAsync(ScaleOutScenario scenario, Guid subscriptionId, string step)
    {
        var simulator = scenario.Simulator;
        return step switch
        {
            "ChangePlan" => [("ChangePlan", await simulator.ChangePlanAsync(subscriptionId, "business"))],
            "ChangeQuantity" => [("ChangeQuantity", await simulator.ChangeQuantityAsync(subscriptionId, 12))],
            "Renew" => [("Renew", await simulator.RenewAsync(subscriptionId))],
            "Suspend" => [("Suspend", await simulator.SuspendAsync(subscriptionId))],
            // Sent back to back, as nothing in the contract forbids: the Suspend's first attempt may meet the killed
            // instance and reach the inbox only after the Reinstate was applied. History must not depend on that.
            "SuspendThenReinstate" => [("Suspend", await simulator.SuspendAsync(subscriptionId)), ("Reinstate", await simulator.ReinstateAsync(subscriptionId))],
            "Unsubscribe" => [("Unsubscribe", await simulator.UnsubscribeAsync(subscriptionId))],
            _ => throw new ArgumentOutOfRangeException(nameof(step), step, "not a step of the script"),
        };
    }

    /// <summary>Every delivery handed over, nothing left waiting in the inbox or the acknowledgement outbox.</summary>
    private static async Task WaitUntilSettledAsync(ScaleOutScenario scenario, PortalDatabase database)
    {
        using var timeout = new CancellationTokenSource(SettleTimeout);
        await scenario.Simulator.WhenDeliveriesIdleAsync(timeout.Token);
        while (true)
        {
            await using (var connection = await database.OpenAsync(timeout.Token))
            {
                var waiting = await connection.ExecuteScalarAsync<long>("""
                    SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE processing_state = @pending)
                         + (SELECT COUNT(*) FROM acknowledgements WHERE state = @pending)
                    """, new { pending = ProcessingStates.Pending });
                if (waiting == 0)
                {
                    break;
                }
            }

            await Task.Delay(250, timeout.Token);
        }

        // A PATCH answered by the emulator is recorded there before our row says Sent; a moment lets a stray second one show.
        await Task.Delay(1000, timeout.Token);
    }

    private sealed record BurstOutcome(IReadOnlyList<string> History, IReadOnlyList<string> PerOperation, int FailedDeliveryAttempts, long LateDeliveries);
}
