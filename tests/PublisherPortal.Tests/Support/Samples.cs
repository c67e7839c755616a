using Marketplace.Models;

namespace PublisherPortal.Tests.Support;

public static class Samples
{
    public static MarketplaceSubscription Subscription(
        Guid? id = null,
        SubscriptionStatus status = SubscriptionStatus.PendingFulfillmentStart,
        string offerId = "insights-saas",
        string planId = "team",
        int? quantity = 5,
        string beneficiaryTenant = "11111111-1111-1111-1111-111111111111",
        string? purchaserTenant = null) => new()
    {
        Id = id ?? Guid.NewGuid(),
        Name = "Contoso analytics",
        PublisherId = "contoso-publisher",
        OfferId = offerId,
        PlanId = planId,
        Quantity = quantity,
        SaasSubscriptionStatus = status,
        Beneficiary = new Party { EmailId = "alice@contoso.example", ObjectId = Guid.NewGuid().ToString(), TenantId = beneficiaryTenant },
        Purchaser = new Party { EmailId = "alice@contoso.example", ObjectId = Guid.NewGuid().ToString(), TenantId = purchaserTenant ?? beneficiaryTenant },
        Term = new SubscriptionTerm { TermUnit = "P1M", StartDate = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), EndDate = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero) },
        AutoRenew = true,
        AllowedCustomerOperations = ["Read", "Update", "Delete"],
        SandboxType = "None",
        SessionMode = "None",
    };
}
