namespace Marketplace.Webhooks;

/// <summary>
/// The self-test delivery the emulator sends on request, so the portal can prove its webhook path end to end (token,
/// inbox, processor). It is recognised by its action alone: a value the marketplace never sends
/// (docs/marketplace.md#operation-object and docs/marketplace.md#webhook-actions list
/// every action it uses), so a genuine delivery can never be taken for a test and left unapplied.
/// </summary>
public static class WebhookTestDelivery
{
    public const string Action = "PublisherPortalSelfTest";

    public static bool IsTest(string? action) => string.Equals(action?.Trim(), Action, StringComparison.Ordinal);
}
