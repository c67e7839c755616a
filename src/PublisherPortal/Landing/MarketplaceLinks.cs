namespace PublisherPortal.Landing;

public static class MarketplaceLinks
{
    /// <summary>The Azure portal's list of SaaS subscriptions, where "Configure account" and "Manage account" live.</summary>
    public const string SaasResources = "https://portal.azure.com/#browse/Microsoft.SaaS%2Fresources";
}
