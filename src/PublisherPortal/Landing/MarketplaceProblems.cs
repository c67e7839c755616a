using System.Net;
using Marketplace;

namespace PublisherPortal.Landing;

/// <summary>Turns what the marketplace answered into a sentence a customer can act on
/// (docs/marketplace.md#subscription-calls, the errors of each call).</summary>
public static class MarketplaceProblems
{
    public const string Unavailable =
        "The Microsoft marketplace is not answering right now. Nothing you entered is lost: try again in a minute.";

    /// <summary>Answers that say "try again later" rather than "this will never work".</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        MarketplaceException m => m.StatusCode == HttpStatusCode.TooManyRequests || (int)m.StatusCode >= 500,
        HttpRequestException or TimeoutException or TaskCanceledException => true,
        _ => false,
    };

    public static string ForResolve(MarketplaceException e) => e.StatusCode switch
    {
        // docs/marketplace.md#resolve: 400 = token missing, malformed, invalid or expired.
        HttpStatusCode.BadRequest =>
            "This purchase link has expired or is not valid. Links from the marketplace work for a limited time.",
        // 403 = a token of another publisher's offer (or our own credentials were refused).
        HttpStatusCode.Forbidden =>
            "This purchase link is for an offer we do not publish, or the marketplace did not accept our portal's credentials.",
        HttpStatusCode.NotFound => "The marketplace does not know the purchase this link belongs to.",
        _ => Unavailable,
    };

    public static string ForActivate(MarketplaceException e) => e.StatusCode switch
    {
        // docs/marketplace.md#activate: 400 on activate = the subscription is Suspended (older docs: plan or seats do not match).
        HttpStatusCode.BadRequest =>
            "The marketplace refused the activation: the subscription is suspended or its plan and seats changed meanwhile. "
            + "Reopen the offer's \"Configure account\" link in the marketplace to see its current state.",
        // 404 = unknown or Unsubscribed.
        HttpStatusCode.NotFound => "The marketplace says this subscription no longer exists or has been cancelled.",
        HttpStatusCode.Forbidden =>
            $"The marketplace did not accept our portal's credentials. Please contact our support and quote request {e.RequestId}.",
        _ => Unavailable,
    };
}
