using Bunit;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using PublisherPortal.Console.Subscriptions;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Console;

/// <summary>The operator's change controls on the detail page, against the emulator and a real database.</summary>
public sealed class SubscriptionActionsTests : ConsoleTestContext
{
    [Fact]
    public async Task A_seat_change_is_confirmed_with_its_billing_effect_before_anything_is_sent()
    {
        SignInAsOperator();
        await ConsoleSeed.PlanAsync(Db, EmulatorCatalogue.InsightsOffer, "team", perSeat: true, min: 1, max: 50);
        var id = await ActiveAsync(PurchaseRequestFor("team", 5));
        var (dialogs, page) = RenderDetail(id);

        page.WaitForElement("input[data-testid=seats-input]").Input("7");
        page.WaitForAssertion(() => Assert.False(page.Find("button[data-testid=change-seats]").HasAttribute("disabled")));
        _ = page.InvokeAsync(() => page.Find("button[data-testid=change-seats]").ClickAsync(new MouseEventArgs()));

        dialogs.WaitForAssertion(() => Assert.Equal("Billing changes from team (team) × 5 seats to team (team) × 7 seats.",
            dialogs.Find("[data-testid=billing-effect]").TextContent.Trim()));
        Assert.Empty(await Operations().ListForSubscriptionAsync(id));
        Assert.Equal(5, Emulator.Simulator.Find(id)!.Quantity);

        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=confirm-change]").Click());

        await WaitForAsync(async () => (await Operations().ListForSubscriptionAsync(id)).SingleOrDefault()?.RequestedQuantity == 7, "the seat change to be sent");
    }

    [Fact]
    public async Task Sixty_seats_on_a_1_to_50_plan_are_refused_inline_and_never_clamped()
    {
        SignInAsOperator();
        await ConsoleSeed.PlanAsync(Db, EmulatorCatalogue.InsightsOffer, "team", perSeat: true, min: 1, max: 50);
        var id = await ActiveAsync(PurchaseRequestFor("team", 5));
        var (_, page) = RenderDetail(id);

        var input = page.WaitForElement("input[data-testid=seats-input]");
        input.Input("60");
        input.Change("60");

        page.WaitForAssertion(() => Assert.Contains("The plan allows at most 50 seats.", page.Markup, StringComparison.Ordinal));
        Assert.Equal("60", page.Find("input[data-testid=seats-input]").GetAttribute("value"));
        Assert.True(page.Find("button[data-testid=change-seats]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task A_reseller_purchase_offers_no_change_and_says_the_reseller_makes_it_in_the_marketplace()
    {
        SignInAsOperator();
        var id = await ActiveAsync(PurchaseRequest.ResellerDemo());
        var (_, page) = RenderDetail(id);

        page.WaitForAssertion(() => Assert.Contains("only the reseller (carla", page.Find("[data-testid=why-no-changes]").TextContent, StringComparison.OrdinalIgnoreCase));
        Assert.Contains("in the Microsoft marketplace", page.Find("[data-testid=why-no-changes]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=change-plan], [data-testid=change-seats], [data-testid=cancel-subscription]"));
        Assert.NotNull(page.Find("[data-testid=sync-now]"));
    }

    [Fact]
    public async Task A_flat_rate_plan_shows_no_seats_and_offers_no_seat_change()
    {
        SignInAsOperator();
        await ConsoleSeed.PlanAsync(Db, EmulatorCatalogue.InsightsOffer, "starter", perSeat: false);
        var id = await ActiveAsync(PurchaseRequestFor("starter", null));
        var (_, page) = RenderDetail(id);

        page.WaitForAssertion(() => Assert.Contains("is a flat-rate plan: no seats to change", page.Find("[data-testid=flat-rate]").TextContent, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=change-seats], [data-testid=seats-input]"));
        Assert.NotNull(page.Find("[data-testid=change-plan]"));
    }

    private (IRenderedComponent<MudDialogProvider> Dialogs, IRenderedComponent<SubscriptionDetailPage> Page) RenderDetail(Guid id)
    {
        Render<MudPopoverProvider>();
        var dialogs = Render<MudDialogProvider>();
        var page = Render<SubscriptionDetailPage>(p => p.Add(x => x.SubscriptionId, id));
        page.WaitForElement("[data-testid=operator-actions]", TimeSpan.FromSeconds(15));
        return (dialogs, page);
    }

    private static PurchaseRequest PurchaseRequestFor(string planId, int? seats) =>
        new() { OfferId = EmulatorCatalogue.InsightsOffer, PlanId = planId, Quantity = seats };

    /// <summary>Bought and activated in the emulator, recorded here as the landing page would.</summary>
    private async Task<Guid> ActiveAsync(PurchaseRequest request)
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(request);
        var client = Services.GetRequiredService<Marketplace.IFulfillmentClient>();
        await client.ActivateAsync(purchase.SubscriptionId, new ActivationRequest(request.PlanId, request.Quantity), Guid.NewGuid());
        var remote = await client.GetSubscriptionAsync(purchase.SubscriptionId, Guid.NewGuid());
        await using var connection = await Db.Database.OpenAsync();
        await using var tx = await Db.Database.BeginWriteAsync(connection);
        await Services.GetRequiredService<SubscriptionStore>().RecordFromMarketplaceAsync(remote, connection, tx);
        await tx.CommitAsync();
        return remote.Id;
    }

    private OperationStore Operations() => Services.GetRequiredService<OperationStore>();

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, $"waited 15 s for {what}");
            await Task.Delay(100);
        }
    }
}
