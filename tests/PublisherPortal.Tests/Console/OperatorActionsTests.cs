using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Console;

/// <summary>The console's actions against the emulator in-process, through the portal's real services and a SQLite file.</summary>
public sealed class OperatorActionsTests : IAsyncLifetime
{
    private WebhookScenario _scenario = default!;
    private WebhookTestHost _portal = default!;

    public async Task InitializeAsync()
    {
        _scenario = await WebhookScenario.StartAsync();
        _portal = await _scenario.StartPortalAsync(services: ConsoleHosting.AddConsoleWithPolicies);
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Fact]
    public async Task Finance_is_refused_every_action_and_nothing_reaches_the_marketplace()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, planId: "team", quantity: 5);
        var finance = ConsoleHosting.Person("finn@publisher.example", Roles.Finance);
        var actions = Actions();

        ConsoleActionResult[] results =
        [
            await actions.ChangeSeatsAsync(finance, id, 7),
            await actions.ChangePlanAsync(finance, id, "business"),
            await actions.CancelAsync(finance, id, "Contoso analytics"),
            await actions.RefuseReinstatementAsync(finance, id, "Contoso analytics"),
            await actions.SyncNowAsync(finance, id),
            await actions.RefreshCatalogueAsync(finance),
            await actions.CheckOperationNowAsync(finance, Guid.NewGuid()),
            await actions.RetryAcknowledgementAsync(finance, 1, id),
            await actions.ProcessDeliveryAgainAsync(finance, 1, id),
            await actions.RequestAgainAsync(finance, Guid.NewGuid()),
        ];

        Assert.All(results, r => Assert.IsType<ConsoleActionResult.Denied>(r));
        Assert.Equal(5, _scenario.Simulator.Find(id)!.Quantity);
        Assert.Empty(await _portal.Services.GetRequiredService<OperationStore>().ListForSubscriptionAsync(id));
    }

    [Fact]
    public async Task A_customer_without_a_role_is_refused_too()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator);

        var result = await Actions().ChangeSeatsAsync(ConsoleHosting.Person("alice@contoso.example"), id, 7);

        Assert.IsType<ConsoleActionResult.Denied>(result);
    }

    [Fact]
    public async Task Two_operators_changing_seats_at_once_get_one_start_and_one_answer_naming_the_first()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, planId: "team", quantity: 5);
        var olivia = ConsoleHosting.Person("olivia@publisher.example", Roles.Operator);
        var ada = ConsoleHosting.Person("ada@publisher.example", Roles.Admin, Roles.Operator);

        var results = await Task.WhenAll(
            Actions().ChangeSeatsAsync(olivia, id, 8),
            Actions().ChangeSeatsAsync(ada, id, 12));

        var changes = results.Select(r => Assert.IsType<ConsoleActionResult.ChangeRequested>(r).Result).ToList();
        var started = Assert.Single(changes.OfType<ChangeRequestResult.Started>());
        var pending = Assert.Single(changes.OfType<ChangeRequestResult.AlreadyPending>());
        Assert.NotNull(pending.Pending);
        Assert.Equal(started.Operation.Id, pending.Pending.Id);
        Assert.Equal(started.Operation.RequestedBy, pending.Pending.RequestedBy);
        Assert.Contains(started.Operation.RequestedBy, ConsoleActionText.Describe(pending).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operators_seat_change_is_followed_until_the_marketplace_applies_it()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, planId: "team", quantity: 5);

        var result = await Actions().ChangeSeatsAsync(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator), id, 9);

        var started = Assert.IsType<ChangeRequestResult.Started>(Assert.IsType<ConsoleActionResult.ChangeRequested>(result).Result);
        var operations = _portal.Services.GetRequiredService<OperationStore>();
        var finished = await Eventually.HoldsAsync(() => operations.FindAsync(started.Operation.Id), o => o is { IsPending: false }, "the operation to end");
        Assert.Equal(OperationStates.Succeeded, finished!.Status);
        Assert.Equal(9, (await _portal.Subscriptions.FindAsync(id))!.Quantity);
    }

    [Fact]
    public async Task Cancelling_needs_the_subscriptions_exact_name()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator);
        var name = (await _portal.Subscriptions.FindAsync(id))!.Name;

        var result = await Actions().CancelAsync(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator), id, name + " typo");

        Assert.IsType<ConsoleActionResult.Failed>(result);
        Assert.Equal(Marketplace.Models.SubscriptionStatus.Subscribed, _scenario.Simulator.Find(id)!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task Seats_outside_the_plans_bounds_are_refused_before_asking_the_marketplace()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, planId: "team", quantity: 5);
        await _portal.SeedPlanAsync("insights-saas", "team", perSeat: true, min: 1, max: 50);

        var result = await Actions().ChangeSeatsAsync(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator), id, 60);

        var refusal = Assert.IsType<ChangeRequestResult.NotAllowed>(Assert.IsType<ConsoleActionResult.ChangeRequested>(result).Result);
        Assert.Contains("at most 50", refusal.Reason, StringComparison.Ordinal);
        Assert.Empty(await _portal.Services.GetRequiredService<OperationStore>().ListForSubscriptionAsync(id));
    }

    [Fact]
    public async Task Sync_now_is_audited_with_who_and_the_outcome()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator);

        var result = await Actions().SyncNowAsync(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator), id);

        Assert.IsType<ConsoleActionResult.Done>(result);
        var entry = Assert.Single(await _portal.Services.GetRequiredService<AuditLog>().ForSubscriptionAsync(id));
        Assert.Equal(("olivia@publisher.example", "SyncNow", "Done"), (entry.Actor, entry.Action, entry.Outcome));
    }

    [Fact]
    public async Task Refreshing_the_catalogue_stores_the_marketplaces_plans_with_their_seat_bounds()
    {
        await _portal.ActiveSubscriptionAsync(_scenario.Emulator, planId: "team", quantity: 5);

        var result = await Actions().RefreshCatalogueAsync(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator));

        Assert.IsType<ConsoleActionResult.Done>(result);
        var team = Assert.Single(await _portal.Services.GetRequiredService<PlanCatalog>().ListAsync(), p => p.PlanId == "team");
        Assert.Equal((true, 1, 50, 1, 5), (team.IsPricePerSeat, team.MinQuantity, team.MaxQuantity, team.SubscriptionCount, team.SeatCount));
    }

    [Fact]
    public async Task Only_a_delivery_whose_processing_failed_can_be_processed_again()
    {
        var failed = await InsertDeliveryAsync(ProcessingStates.Failed);
        var applied = await InsertDeliveryAsync(ProcessingStates.Applied);
        var olivia = ConsoleHosting.Person("olivia@publisher.example", Roles.Operator);

        var again = await Actions().ProcessDeliveryAgainAsync(olivia, failed, null);
        var twice = await Actions().ProcessDeliveryAgainAsync(olivia, applied, null);

        Assert.IsType<ConsoleActionResult.Done>(again);
        Assert.IsType<ConsoleActionResult.Failed>(twice);
    }

    [Fact]
    public async Task A_failed_seat_change_requested_again_goes_to_the_marketplace_as_a_new_operation_and_is_audited()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, planId: "team", quantity: 5);
        var failed = await InsertFailedOperationAsync(id, "ChangeQuantity", planId: null, quantity: 11);

        var result = await Actions().RequestAgainAsync(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator), failed);

        var started = Assert.IsType<ChangeRequestResult.Started>(Assert.IsType<ConsoleActionResult.ChangeRequested>(result).Result);
        Assert.NotEqual(failed, started.Operation.Id);
        var operations = _portal.Services.GetRequiredService<OperationStore>();
        await Eventually.HoldsAsync(() => operations.FindAsync(started.Operation.Id), o => o is { IsPending: false }, "the operation to end");
        Assert.Equal(11, (await _portal.Subscriptions.FindAsync(id))!.Quantity);
        await using var connection = await _portal.Database.OpenAsync();
        var audited = await connection.QueryAsync<string>(
            "SELECT action FROM audit_log WHERE subscription_id = @id AND actor = 'olivia@publisher.example' ORDER BY id", new { id = id.ToString("D") });
        Assert.Equal("RequestAgain", audited.First());
    }

    [Fact]
    public async Task A_succeeded_operation_or_a_cancellation_cannot_be_requested_again()
    {
        var id = await _portal.ActiveSubscriptionAsync(_scenario.Emulator, planId: "team", quantity: 5);
        var cancellation = await InsertFailedOperationAsync(id, "Unsubscribe", planId: null, quantity: null);
        var olivia = ConsoleHosting.Person("olivia@publisher.example", Roles.Operator);

        var result = await Actions().RequestAgainAsync(olivia, cancellation);

        Assert.IsType<ConsoleActionResult.Failed>(result);
        Assert.Equal("Subscribed", _scenario.Simulator.Find(id)!.SaasSubscriptionStatus.ToString());
    }

    private async Task<Guid> InsertFailedOperationAsync(Guid subscriptionId, string action, string? planId, int? quantity)
    {
        var operationId = Guid.NewGuid();
        await using var connection = await _portal.Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO operations (id, subscription_id, action, requested_plan_id, requested_quantity, status, source, requested_by,
                                    requested_at, location, correlation_id, next_poll_at, completed_at, error_message)
            VALUES (@id, @subscriptionId, @action, @planId, @quantity, 'Failed', 'operator', 'ada@publisher.example',
                    '2026-11-01T09:00:00.0000000Z', 'https://example.invalid/op', @correlation, '2026-11-01T09:00:00.0000000Z',
                    '2026-11-01T09:01:00.0000000Z', 'The marketplace answered Failure.')
            """, new { id = operationId.ToString("D"), subscriptionId = subscriptionId.ToString("D"), action, planId, quantity, correlation = Guid.NewGuid().ToString("D") });
        return operationId;
    }

    private async Task<long> InsertDeliveryAsync(string processingState)
    {
        await using var connection = await _portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO webhook_deliveries (received_at, operation_id, action, body, headers, result, processing_state, attempts)
            VALUES ('2026-11-01T09:00:00.0000000Z', @op, 'Suspend', '{}', '{}', 'Accepted', @processingState, 30) RETURNING id
            """, new { op = Guid.NewGuid().ToString(), processingState });
    }

    private OperatorActions Actions() => _portal.Services.CreateScope().ServiceProvider.GetRequiredService<OperatorActions>();
}

/// <summary>Adds the console to a test host, with the portal's Operator policy as Identity/IdentityExtensions defines it.</summary>
public static class ConsoleHosting
{
    public static void AddConsoleWithPolicies(IServiceCollection services)
    {
        services.AddConsoleServices();
        services.AddLogging();
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Operator, p => p.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Policies.Staff, p => p.RequireRole(Roles.Operator, Roles.Finance, Roles.Admin));
    }

    /// <summary>A signed-in person as Entra sends them: roles in the "roles" claim.</summary>
    public static ClaimsPrincipal Person(string email, params string[] roles) =>
        new(new ClaimsIdentity(
            [new Claim("preferred_username", email), new Claim("name", email), .. roles.Select(r => new Claim("roles", r))],
            authenticationType: "test", nameType: "preferred_username", roleType: "roles"));
}
