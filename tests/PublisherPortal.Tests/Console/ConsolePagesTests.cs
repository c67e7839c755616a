using Bunit;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Console.Operations;
using PublisherPortal.Console.Plans;
using PublisherPortal.Console.Suspensions;
using PublisherPortal.Console.Webhooks;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Console;

/// <summary>Plans, suspensions, operations and the webhook log: their states, and that only operators get controls.</summary>
public sealed class ConsolePagesTests : ConsoleTestContext
{
    [Fact]
    public void Plans_without_any_subscription_say_why_the_catalogue_is_empty()
    {
        SignInAsOperator();

        var page = RenderPage<PlansPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty]")));
    }

    [Fact]
    public async Task One_plan_with_one_subscription_reads_in_the_singular()
    {
        SignInAsOperator();
        await ConsoleSeed.PlanAsync(Db, "insights-saas", "team", perSeat: true, min: 1, max: 50);
        await ConsoleSeed.SubscriptionAsync(Db, planId: "team", quantity: 1);

        var page = RenderPage<PlansPage>();

        page.WaitForAssertion(() => Assert.Contains("1 plan · 1 subscription · 1 seat",
            string.Join(' ', page.Find("[data-offer=insights-saas]").TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)),
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task Plans_show_bounds_price_and_usage_and_only_operators_may_refresh()
    {
        SignInAsFinance();
        await ConsoleSeed.PlanAsync(Db, "insights-saas", "team", perSeat: true, min: 1, max: 50,
            rawJson: """{"planId":"team","isPricePerSeat":true,"planComponents":{"recurrentBillingTerms":[{"currency":"USD","price":12,"termUnit":"P1M"}]}}""");
        await ConsoleSeed.SubscriptionAsync(Db, planId: "team", quantity: 5);
        await ConsoleSeed.SubscriptionAsync(Db, planId: "team", quantity: 7);

        var page = RenderPage<PlansPage>();

        page.WaitForAssertion(() =>
        {
            var offer = page.Find("[data-offer=insights-saas]").TextContent;
            Assert.Contains("1–50", offer, StringComparison.Ordinal);
            Assert.Contains("USD 12.00 per seat per month", offer, StringComparison.Ordinal);
            Assert.Contains("2 subscriptions · 12 seats", offer, StringComparison.Ordinal);
        });
        Assert.Empty(page.FindAll("[data-testid=refresh-catalogue]"));
    }

    [Fact]
    public void An_operator_may_refresh_the_catalogue()
    {
        SignInAsOperator();

        var page = RenderPage<PlansPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=refresh-catalogue]")));
    }

    [Fact]
    public async Task A_suspension_shows_since_when_and_the_days_the_marketplace_still_gives()
    {
        SignInAsOperator();
        var id = await ConsoleSeed.SubscriptionAsync(Db, name: "Unpaid one");
        await ConsoleSeed.ChangeStatusAsync(Db, id, SubscriptionStatus.Suspended, EventKinds.Suspended, accessEnabled: false);
        Db.Time.Advance(TimeSpan.FromDays(10));

        var page = RenderPage<SuspensionsPage>();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("Unpaid one", page.Find("[data-testid=suspended]").TextContent, StringComparison.Ordinal);
            Assert.Contains("(20 days left)", page.Find("[data-testid=days-left]").TextContent, StringComparison.Ordinal);
            Assert.NotNull(page.Find("[data-testid=refuse-reinstatement]"));
        });
    }

    [Fact]
    public async Task Finance_sees_suspensions_and_reinstatements_without_the_refuse_button()
    {
        SignInAsFinance();
        var suspended = await ConsoleSeed.SubscriptionAsync(Db, name: "Unpaid one");
        await ConsoleSeed.ChangeStatusAsync(Db, suspended, SubscriptionStatus.Suspended, EventKinds.Suspended, accessEnabled: false);
        var reinstated = await ConsoleSeed.SubscriptionAsync(Db, name: "Paid again");
        await ConsoleSeed.ChangeStatusAsync(Db, reinstated, SubscriptionStatus.Suspended, EventKinds.Suspended, accessEnabled: false);
        await ConsoleSeed.ChangeStatusAsync(Db, reinstated, SubscriptionStatus.Subscribed, EventKinds.Reinstated, accessEnabled: false);

        var page = RenderPage<SuspensionsPage>();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("Paid again", page.Find("[data-testid=reinstated]").TextContent, StringComparison.Ordinal);
            Assert.NotNull(page.Find("[data-testid=access-not-restored]"));
        });
        Assert.Empty(page.FindAll("[data-testid=refuse-reinstatement]"));
    }

    [Fact]
    public void Operations_with_nothing_stuck_say_so()
    {
        SignInAsFinance();

        var page = RenderPage<OperationsPage>();

        page.WaitForAssertion(() =>
        {
            Assert.NotNull(page.Find("[data-testid=operations-empty]"));
            Assert.NotNull(page.Find("[data-testid=acknowledgements-empty]"));
        });
    }

    [Fact]
    public async Task A_failed_acknowledgement_is_listed_with_a_retry_for_operators()
    {
        SignInAsOperator();
        var id = await ConsoleSeed.SubscriptionAsync(Db, name: "Owed an answer");
        await FailedAcknowledgementAsync(id);

        var page = RenderPage<OperationsPage>();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("Owed an answer", page.Find("[data-testid=acknowledgements]").TextContent, StringComparison.Ordinal);
            Assert.Contains("409 from the marketplace", page.Find("[data-testid=acknowledgements]").TextContent, StringComparison.Ordinal);
            Assert.NotNull(page.Find("[data-testid=retry-acknowledgement]"));
        });
    }

    [Fact]
    public async Task Finance_sees_a_failed_acknowledgement_but_no_retry()
    {
        SignInAsFinance();
        var id = await ConsoleSeed.SubscriptionAsync(Db, name: "Owed an answer");
        await FailedAcknowledgementAsync(id);

        var page = RenderPage<OperationsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=acknowledgements]")));
        Assert.Empty(page.FindAll("[data-testid=retry-acknowledgement]"));
    }

    [Fact]
    public async Task The_webhook_log_shows_rejections_with_their_reason_and_offers_process_again_only_for_failed_ones()
    {
        SignInAsOperator();
        var id = await ConsoleSeed.SubscriptionAsync(Db);
        await ConsoleSeed.DeliveryAsync(Db, null, "ChangePlan", "Unauthorized", null, rejectReason: "no bearer token");
        await ConsoleSeed.DeliveryAsync(Db, id, "Suspend", "Accepted", "Failed");
        await ConsoleSeed.DeliveryAsync(Db, id, "Renew", "Accepted", "Applied");

        var page = RenderPage<WebhookLogPage>();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("no bearer token", page.Find("[data-testid=webhook-grid]").TextContent, StringComparison.Ordinal);
            Assert.Single(page.FindAll("[data-testid=process-again]"));
            Assert.Equal(3, page.FindAll("[data-testid=show-payload]").Count);
        });
    }

    [Fact]
    public async Task Finance_reads_the_webhook_log_without_process_again()
    {
        SignInAsFinance();
        var id = await ConsoleSeed.SubscriptionAsync(Db);
        await ConsoleSeed.DeliveryAsync(Db, id, "Suspend", "Accepted", "Failed");

        var page = RenderPage<WebhookLogPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=show-payload]")));
        Assert.Empty(page.FindAll("[data-testid=process-again]"));
    }

    [Fact]
    public void A_payload_never_shows_a_token()
    {
        var shown = PublisherPortal.Console.WebhookLogQuery.Redact("""{"id":"x","purchaseToken":"secret-token","subscription":{"token":"t2"}}""");

        Assert.DoesNotContain("secret-token", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("t2", shown, StringComparison.Ordinal);
        Assert.Contains("\"id\": \"x\"", shown, StringComparison.Ordinal);
    }

    private async Task FailedAcknowledgementAsync(Guid subscriptionId)
    {
        await using var connection = await Db.Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO acknowledgements (subscription_id, operation_id, answer, created_at, due_by, state, attempts, next_attempt_at, last_error)
            VALUES (@subscriptionId, @operationId, 'Success', @now, @now, 'Failed', 5, @now, '409 from the marketplace')
            """, new { subscriptionId = subscriptionId.ToString("D"), operationId = Guid.NewGuid().ToString("D"), now = Db.Time.GetUtcNow() });
    }
}
