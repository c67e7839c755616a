using Bunit;
using Marketplace.Models;
using PublisherPortal.Console.Subscriptions;
using PublisherPortal.Data;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Console;

namespace PublisherPortal.Tests.Offers;

/// <summary>The console's subscription facts show the wizard's custom answers under the labels the offer asked them with.</summary>
public sealed class CustomAnswersDisplayTests : ConsoleTestContext
{
    [Fact]
    public async Task Answers_appear_with_their_labels_and_an_answer_to_a_field_no_longer_asked_keeps_its_name()
    {
        await OffersHosting.SaveAsync(Db.Database, OfferPolicy.DefaultFor("backup-saas") with
        {
            CustomFields = [new CustomField { Name = "retention-days", Label = "Keep backups for (days)", Type = CustomFieldType.Number }],
        });
        var subscription = new SubscriptionRecord
        {
            Id = Guid.NewGuid(),
            Name = "Contoso archive",
            OfferId = "backup-saas",
            PlanId = "pro",
            Status = SubscriptionStatus.PendingFulfillmentStart,
            AccountOrganisation = "Contoso",
            ConfiguredAt = Db.Time.GetUtcNow(),
            AccountSettings = """{"DataRegion":"westeurope","Fields":{"retention-days":"90","old-question":"kept"}}""",
        };
        SignInAsFinance();

        var facts = Render<SubscriptionFacts>(p => p.Add(f => f.Subscription, subscription));

        facts.WaitForAssertion(() => Assert.Equal("Keep backups for (days)", facts.Find("[data-field=retention-days] th").TextContent));
        Assert.Equal("90", facts.Find("[data-field=retention-days] td").TextContent);
        Assert.Equal(("old-question", "kept"), (facts.Find("[data-field=old-question] th").TextContent, facts.Find("[data-field=old-question] td").TextContent));
        Assert.Contains("westeurope", facts.Find("[data-testid=account-facts]").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Fields\"", facts.Markup, StringComparison.Ordinal);
    }
}
