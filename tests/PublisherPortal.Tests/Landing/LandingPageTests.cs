using AngleSharp.Dom;
using Bunit;
using Marketplace.Emulator;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Notifications;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Landing;

/// <summary>The landing page as a customer sees it, one test per screen, against the real services and emulator.</summary>
public sealed class LandingPageTests : PortalTestContext, IClassFixture<EmulatorFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private readonly EmulatorFixture _fixture;
    private TestDatabase _db = default!;

    public LandingPageTests(EmulatorFixture fixture) => _fixture = fixture;

    private RunningEmulator Emulator => _fixture.Emulator;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        Services.AddLandingUnderTest(_db, Emulator);
    }

    private bool _signedIn;

    /// <summary>Registers the person before anything resolves a service (bUnit freezes the container then).</summary>
    private void SignInAs(DemoIdentity person)
    {
        if (_signedIn)
        {
            return;
        }

        _signedIn = true;
        SignIn(person.Email, person.TenantId);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        // MudBlazor's services dispose only asynchronously; xunit v2 would otherwise dispose the context synchronously.
        await base.DisposeAsync();
        await _db.DisposeAsync();
    }

    private IRenderedComponent<LandingPage> Open(string? token)
    {
        SignInAs(DemoIdentities.Alice);
        Render<MudPopoverProvider>();
        var address = token is null ? "landing" : $"landing?token={Uri.EscapeDataString(token)}";
        Services.GetRequiredService<NavigationManager>().NavigateTo(address);
        return Render<LandingPage>();
    }

    private static IElement Screen(IRenderedComponent<LandingPage> page, string problem) =>
        Await(page, $"[data-problem={problem}]");

    /// <summary>Waits for an element; on timeout the failure shows what the customer saw instead.</summary>
    private static IElement Await(IRenderedComponent<LandingPage> page, string selector)
    {
        try
        {
            return page.WaitForElement(selector, Patience);
        }
        catch (Exception e) when (e is Bunit.Extensions.WaitForHelpers.WaitForFailedException or AggregateException)
        {
            throw new Xunit.Sdk.XunitException($"No {selector} appeared. The page showed:\n{page.Markup}");
        }
    }

    [Fact]
    public void Without_a_token_the_page_explains_where_the_link_comes_from()
    {
        var page = Open(null);

        Assert.Contains("Configure account", Screen(page, "no-token").TextContent);
    }

    [Fact]
    public async Task An_expired_link_asks_to_open_Configure_account_again()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        Emulator.Simulator.ExpireToken(purchase.Token);

        var screen = Screen(Open(purchase.Token), "invalid-token");

        Assert.Contains("expired", screen.TextContent);
        Assert.Contains("Configure account", screen.TextContent);
    }

    [Fact]
    public async Task A_fresh_purchase_opens_the_wizard_on_review_with_the_plan_name_and_seats()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 7 });

        var page = Open(purchase.Token);
        var wizard = Await(page, "[data-testid=wizard]");

        Assert.Equal("Review", wizard.GetAttribute("data-step"));
        Assert.Contains("Team", Await(page, "[data-testid=plan]").TextContent);
        Assert.Contains("7 seats", Await(page, "[data-testid=seats]").TextContent);
    }

    [Fact]
    public async Task The_customer_walks_every_step_and_sees_the_success_page()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        var page = Open(purchase.Token);
        await page.ClickAsync("[data-testid=review-continue]");

        await page.ClickAsync("[data-testid=setup-continue]");
        await page.ClickAsync("[data-testid=plan-continue]");
        await page.ClickAsync("[data-testid=activate]");

        Assert.Contains("is active", Await(page, "[data-testid=activated]").TextContent);
        var kinds = (await Services.GetRequiredService<SubscriptionStore>().HistoryAsync(purchase.SubscriptionId)).Select(e => e.Kind);
        Assert.Equal([EventKinds.Resolved, EventKinds.Configured, EventKinds.Activated], kinds);
    }

    [Fact]
    public async Task The_success_page_names_exactly_who_the_welcome_mail_went_to()
    {
        // The mail planner follows the history as in the portal, so the page reads the outbox row the activation wrote.
        Services.AddNotificationServices(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        var page = Open(purchase.Token);
        await page.ClickAsync("[data-testid=review-continue]");
        Await(page, "input[data-testid=admin-email]").Input("it-admin@contoso.example");

        await page.ClickAsync("[data-testid=setup-continue]");
        await page.ClickAsync("[data-testid=plan-continue]");
        await page.ClickAsync("[data-testid=activate]");

        var told = Await(page, "[data-testid=welcome-recipients]").TextContent;
        Assert.Contains("welcome message with the sign-in link to it-admin@contoso.example.", told);
        Assert.DoesNotContain("alice@contoso.example", told);
        var queued = await Services.GetRequiredService<PublisherPortal.Notifications.MailOutbox>().ForSubscriptionAsync(purchase.SubscriptionId);
        Assert.Equal(["it-admin@contoso.example"], queued.Single(m => m.Notification == "ActivationDone").RecipientList);
    }

    [Fact]
    public async Task An_empty_organisation_name_keeps_the_customer_on_the_account_step()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        var page = Open(purchase.Token);
        await page.ClickAsync("[data-testid=review-continue]");

        Await(page, "input[data-testid=organisation]").Input("");
        await page.ClickAsync("[data-testid=setup-continue]");

        page.WaitForAssertion(() => Assert.Contains("Enter your organisation's name.", page.Markup), Patience);
        Assert.Equal("Setup", page.Find("[data-testid=wizard]").GetAttribute("data-step"));
        Assert.Null((await Services.GetRequiredService<SubscriptionStore>().FindAsync(purchase.SubscriptionId))!.ConfiguredAt);
    }

    [Fact]
    public async Task Reopening_after_the_account_step_resumes_at_plan_confirmation_with_the_answers_kept()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        SignInAs(DemoIdentities.Alice);
        var landing = Services.GetRequiredService<LandingService>();
        var alice = DemoIdentities.Alice.AsUser();
        await landing.OpenAsync(purchase.Token, alice);
        await landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), alice);

        var page = Open(purchase.Token);

        Assert.Equal("ConfirmPlan", Await(page, "[data-testid=wizard]").GetAttribute("data-step"));
    }

    [Fact]
    public async Task An_activated_subscription_shows_as_already_active_with_a_link_to_my_subscriptions()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        SignInAs(DemoIdentities.Alice);
        var landing = Services.GetRequiredService<LandingService>();
        var alice = DemoIdentities.Alice.AsUser();
        await landing.OpenAsync(purchase.Token, alice);
        await landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), alice);
        await landing.ActivateAsync(purchase.SubscriptionId, alice);

        var screen = Screen(Open(purchase.Token), "already-active");

        Assert.NotNull(screen.QuerySelector("a[href='my/subscriptions']"));
    }

    [Fact]
    public async Task An_unavailable_marketplace_offers_a_retry_that_continues_without_re_entering_anything()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        Emulator.Faults.FailureRate = 1;
        IRenderedComponent<LandingPage> page;
        try
        {
            page = Open(purchase.Token);
            Screen(page, "unavailable");
        }
        finally
        {
            Emulator.Faults.FailureRate = 0;
        }

        await page.ClickAsync("[data-testid=retry]");

        Await(page, "[data-testid=wizard]");
    }

    [Fact]
    public async Task A_reseller_purchase_says_plainly_who_pays_and_who_uses_it()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(PurchaseRequest.ResellerDemo());
        SignInAs(DemoIdentities.Bob);

        var page = Open(purchase.Token);

        Assert.Contains("through a reseller", Await(page, "[data-testid=reseller-note]").TextContent);
    }

    [Fact]
    public async Task A_user_of_another_tenant_is_warned_before_the_wizard()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        SignInAs(DemoIdentities.Mallory);

        var page = Open(purchase.Token);
        Screen(page, "tenant-mismatch");
        await page.ClickAsync("[data-testid=confirm-tenant]");

        Await(page, "[data-testid=wizard]");
        Assert.Contains(await Services.GetRequiredService<SubscriptionStore>().HistoryAsync(purchase.SubscriptionId),
            e => e.Kind == EventKinds.TenantMismatchConfirmed);
    }

    [Fact]
    public async Task A_suspended_subscription_says_how_to_get_access_back()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        SignInAs(DemoIdentities.Alice);
        var landing = Services.GetRequiredService<LandingService>();
        var alice = DemoIdentities.Alice.AsUser();
        await landing.OpenAsync(purchase.Token, alice);
        await landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), alice);
        await landing.ActivateAsync(purchase.SubscriptionId, alice);
        await Emulator.Simulator.SuspendAsync(purchase.SubscriptionId);

        var screen = Screen(Open(Emulator.Simulator.IssueToken(purchase.SubscriptionId)), "suspended");

        Assert.Contains("payment", screen.TextContent);
    }

    private async Task<SimulatedPurchase> ActiveAsync(PurchaseRequest? request = null)
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(request ?? new PurchaseRequest());
        SignInAs(DemoIdentities.Alice);
        var landing = Services.GetRequiredService<LandingService>();
        var alice = DemoIdentities.Alice.AsUser();
        await landing.OpenAsync(purchase.Token, alice);
        await landing.SaveSetupAsync(purchase.SubscriptionId, LandingServices.ValidSetup(), alice);
        await landing.ActivateAsync(purchase.SubscriptionId, alice);
        return purchase;
    }

    [Fact]
    public async Task A_cancelled_subscription_never_promises_to_renew()
    {
        var purchase = await ActiveAsync();
        await Emulator.Simulator.UnsubscribeAsync(purchase.SubscriptionId);

        var screen = Screen(Open(Emulator.Simulator.IssueToken(purchase.SubscriptionId)), "ended");

        Assert.DoesNotContain("Renews automatically", screen.TextContent);
        Assert.Contains("Does not renew", screen.TextContent);
    }

    [Fact]
    public async Task A_suspended_card_in_my_subscriptions_says_why_and_what_to_do()
    {
        var purchase = await ActiveAsync();
        await Services.GetRequiredService<SubscriptionStore>().ApplyChangeAsync(
            new SubscriptionChange(purchase.SubscriptionId, EventKinds.Suspended, EventSources.Marketplace, null)
            {
                Status = Marketplace.Models.SubscriptionStatus.Suspended,
                AccessEnabled = false,
            });
        Render<MudPopoverProvider>();

        var page = Render<MySubscriptionsPage>();

        var why = page.WaitForElement("[data-testid=suspended-why]", Patience).TextContent;
        Assert.Contains("could not collect a payment", why);
        Assert.Contains("Azure portal", why);
        Assert.Contains("30 days", why);
        Assert.DoesNotContain("Renews automatically", page.Find("[data-testid=subscription]").TextContent);
    }

    [Fact]
    public async Task Customers_read_the_offer_by_its_display_name_with_the_id_second()
    {
        SignInAs(DemoIdentities.Alice);
        await Services.GetRequiredService<PublisherPortal.Offers.OfferNames>().SaveAsync("insights-saas", "Contoso Insights", "ada@publisher.example");
        var purchase = await ActiveAsync(new PurchaseRequest { PlanId = "team", Quantity = 1 });

        var summary = Screen(Open(Emulator.Simulator.IssueToken(purchase.SubscriptionId)), "already-active");
        Assert.Contains("Contoso Insights (insights-saas)", summary.QuerySelector("[data-testid=offer]")!.TextContent);

        var cards = Render<MySubscriptionsPage>();
        Assert.Equal("Contoso Insights", cards.WaitForElement("[data-testid=offer]", Patience).TextContent.Trim());
        Assert.Equal("Team", cards.Find("[data-testid=plan]").TextContent.Replace("Plan", "").Trim());
        Assert.Equal("1 seat", cards.Find("[data-testid=seats]").TextContent.Replace("Seats", "").Trim());
    }

    [Fact]
    public async Task An_approval_offer_s_last_step_reads_as_submitting_for_approval()
    {
        SignInAs(DemoIdentities.Alice);
        var policies = Services.GetRequiredService<PublisherPortal.Offers.OfferPolicyStore>();
        var before = await policies.FindAsync("insights-saas");
        await using (var connection = await _db.Database.OpenAsync())
        {
            await using var tx = await _db.Database.BeginWriteAsync(connection);
            await policies.SaveAsync(before with { Activation = PublisherPortal.Offers.ActivationMode.OperatorApproval }, before.Version, "ada", DateTimeOffset.UtcNow, connection, tx, default);
            await tx.CommitAsync();
        }

        var purchase = await Emulator.Simulator.PurchaseAsync(new PurchaseRequest());
        var page = Open(purchase.Token);
        await page.ClickAsync("[data-testid=review-continue]");
        await page.ClickAsync("[data-testid=setup-continue]");
        await page.ClickAsync("[data-testid=plan-continue]");

        Await(page, "[data-testid=activate-step]");
        var stepper = page.Find("[data-testid=wizard]").TextContent;
        Assert.Contains("Submit for approval", stepper);
        Assert.DoesNotContain("Start the subscription", stepper);
        Assert.Contains("Submit for approval", page.Find("[data-testid=activate]").TextContent);
    }
}
