using PublisherPortal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Bunit;
using MudBlazor;
using PublisherPortal.Data;
using PublisherPortal.Notifications;
using PublisherPortal.Notifications.Admin;

namespace PublisherPortal.Tests.Notifications;

/// <summary>An Admin edits a template: the preview follows every keystroke, typos in placeholders are named and block saving.</summary>
public sealed class TemplateEditorTests : NotificationPagesContext
{
    private IRenderedComponent<TemplateEditor> RenderEditor(Notification notification)
    {
        var cut = RenderPage<TemplateEditor>(p => p.Add(e => e.Notification, notification));
        cut.WaitForElement("[data-testid=preview]");
        return cut;
    }

    private static void Type(IRenderedComponent<TemplateEditor> cut, string label, string text)
    {
        var field = cut.FindComponents<MudTextField<string>>().Single(f => f.Instance.Label == label);
        field.Find(label == "Body" ? "textarea" : "input").Input(text);
    }

    [Fact]
    public void The_preview_renders_the_built_in_wording_for_the_sample_reseller_purchase()
    {
        SignInAsAdmin();

        var cut = RenderEditor(NotificationCatalog.SeatsChanged);

        Assert.Equal("Fabrikam analytics now has 12 seats", cut.Find("[data-testid=preview-subject]").TextContent.Trim());
        Assert.Contains("bob@fabrikam.example, carla@csp-reseller.example", cut.Find("[data-testid=preview]").TextContent);
        Assert.Contains("built-in wording", cut.Find("[data-testid=wording-kind]").TextContent);
        Assert.Contains("Placeholders you can use (20)", cut.Find("[data-testid=placeholders]").TextContent);
        Assert.Contains("{PreviousQuantity}", cut.Find("[data-testid=placeholders]").TextContent);
    }

    [Fact]
    public async Task An_unknown_placeholder_is_reported_and_blocks_saving_until_it_is_fixed()
    {
        SignInAsAdmin();
        var cut = RenderEditor(NotificationCatalog.Suspended);

        Type(cut, "Subject", "Paused: {SubscriptionName} for {Custmer}");

        cut.WaitForAssertion(() => Assert.Contains("{Custmer}", cut.Find("[data-testid=unknown-placeholders]").TextContent));
        Assert.Equal("Paused: Fabrikam analytics for {Custmer}", cut.Find("[data-testid=preview-subject]").TextContent.Trim());
        Assert.True(cut.Find("[data-testid=save-template]").HasAttribute("disabled"));

        Type(cut, "Subject", "Paused: {SubscriptionName} for {CustomerEmail}");
        Type(cut, "Body", "Hello {CustomerEmail}, {SubscriptionName} is paused.");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=unknown-placeholders]")));
        Assert.Equal("Hello bob@fabrikam.example, Fabrikam analytics is paused.", cut.Find("[data-testid=preview-body]").TextContent.Trim());

        await cut.ClickAsync("[data-testid=save-template]");

        cut.WaitForAssertion(() => Assert.Contains("Saved", cut.Find("[data-testid=action-answer]").TextContent));
        var stored = await Services.GetRequiredService<NotificationSettingsStore>().WordingAsync(NotificationCatalog.Suspended);
        Assert.Equal(("Paused: {SubscriptionName} for {CustomerEmail}", "Hello {CustomerEmail}, {SubscriptionName} is paused.", true),
            (stored.Subject, stored.Body, stored.IsCustom));
        Assert.Contains("custom, by ada@publisher.example", cut.Find("[data-testid=wording-kind]").TextContent);
        await using var connection = await Db.Database.OpenAsync();
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            "SELECT COUNT(*) FROM audit_log WHERE action = @action", new { action = NotificationSettingsStore.TemplateChangedAction }));
    }

    [Fact]
    public async Task A_finance_user_cannot_save_a_template_even_through_the_circuit()
    {
        SignInAsFinance();
        var cut = RenderEditor(NotificationCatalog.Suspended);

        await cut.ClickAsync("[data-testid=save-template]");

        cut.WaitForAssertion(() => Assert.Contains("Only admins", cut.Find("[data-testid=action-answer]").TextContent));
        Assert.False((await Services.GetRequiredService<NotificationSettingsStore>().WordingAsync(NotificationCatalog.Suspended)).IsCustom);
    }

    [Fact]
    public async Task The_preview_can_use_a_real_subscription()
    {
        var subscriptions = Services.GetRequiredService<SubscriptionStore>();
        await using (var connection = await Db.Database.OpenAsync())
        await using (var tx = await Db.Database.BeginWriteAsync(connection))
        {
            await subscriptions.RecordFromMarketplaceAsync(Support.Samples.Subscription(planId: "starter", quantity: null), connection, tx);
            await tx.CommitAsync();
        }

        var real = Assert.Single(await Services.GetRequiredService<TemplatePreview>().RecentSubscriptionsAsync(5));
        var preview = Services.GetRequiredService<TemplatePreview>().Render(
            NotificationCatalog.ActivationDone, "{SubscriptionName} on {PlanId}", "To {CustomerEmail}",
            await Services.GetRequiredService<TemplatePreview>().FindAsync(real.Id));

        Assert.Equal(("Contoso analytics on starter", "To alice@contoso.example"), (preview.Subject, preview.Body));
        Assert.Equal(["alice@contoso.example"], preview.Recipients);
    }
}
