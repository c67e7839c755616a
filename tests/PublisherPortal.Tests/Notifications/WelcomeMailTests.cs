using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Notifications;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Notifications;

/// <summary>
/// The welcome mail (issue 15, defect 6): it goes to the administrator the customer entered in the wizard, to the
/// beneficiary too only where the offer's settings say so, and it carries the sign-in link.
/// </summary>
public sealed class WelcomeMailTests
{
    private const string Beneficiary = "alice@contoso.example";
    private const string Administrator = "it-admin@contoso.example";

    private static async Task<Guid> BuyAndSetUpAsync(MailHarness mail)
    {
        var id = await mail.BuyAsync(Samples.Subscription(planId: "team", quantity: 5));
        var setup = new AccountSetup { OrganisationName = "Contoso", AdminName = "Ivan IT", AdminEmail = Administrator, DataRegion = "westeurope" };
        await using var connection = await mail.Db.Database.OpenAsync();
        await using var tx = await mail.Db.Database.BeginWriteAsync(connection);
        await new LandingStore(mail.Db.Database, mail.Db.Time).SaveAccountAsync(id, setup, Beneficiary, connection, tx, default);
        await tx.CommitAsync();
        return id;
    }

    private static Task ActivateAsync(MailHarness mail, Guid id) =>
        mail.ChangeAsync(new SubscriptionChange(id, EventKinds.Activated, EventSources.Customer, Beneficiary)
        {
            Status = SubscriptionStatus.Subscribed,
            AccessEnabled = true,
        });

    [Fact]
    public async Task The_welcome_mail_goes_to_the_administrator_entered_in_the_wizard_with_the_sign_in_link()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await BuyAndSetUpAsync(mail);

        await ActivateAsync(mail, id);

        var welcome = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal(NotificationCatalog.ActivationDone.Name, welcome.Notification);
        Assert.Equal([Administrator], welcome.RecipientList);
        Assert.Contains("https://portal.contoso.example/account/signin?returnUrl=%2Fmy%2Fsubscriptions", welcome.Body);
        Assert.Equal([Administrator], await new LandingStore(db.Database, db.Time).WelcomeRecipientsAsync(id, default));
    }

    [Fact]
    public async Task The_offer_setting_adds_the_beneficiary_to_the_welcome_mail()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        await mail.Settings.SetEnabledAsync("insights-saas", NotificationCatalog.WelcomeCopiesBeneficiary, enabled: true, MailHarness.Ada);
        var id = await BuyAndSetUpAsync(mail);

        await ActivateAsync(mail, id);

        Assert.Equal([Administrator, Beneficiary], Assert.Single(await mail.Outbox.ForSubscriptionAsync(id)).RecipientList);
    }

    [Fact]
    public async Task An_admin_wording_without_the_link_still_sends_the_link()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        await mail.Settings.SaveWordingAsync(NotificationCatalog.ActivationDone, "Hello", "{SubscriptionName} is ready.", MailHarness.Ada);
        var id = await BuyAndSetUpAsync(mail);

        await ActivateAsync(mail, id);

        var body = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id)).Body;
        Assert.StartsWith("Contoso analytics is ready.", body);
        Assert.EndsWith("Sign in: https://portal.contoso.example/account/signin?returnUrl=%2Fmy%2Fsubscriptions", body);
    }

    [Fact]
    public async Task A_welcome_switched_off_for_the_offer_leaves_the_success_page_nobody_to_name()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        await mail.Settings.SetEnabledAsync("insights-saas", NotificationCatalog.ActivationDone, enabled: false, MailHarness.Ada);
        var id = await BuyAndSetUpAsync(mail);

        await ActivateAsync(mail, id);

        Assert.Empty(await new LandingStore(db.Database, db.Time).WelcomeRecipientsAsync(id, default));
    }
}
