using Marketplace;

namespace PublisherPortal.Health;

/// <summary>
/// Can we get a marketplace token right now, and until when is it valid. Every marketplace call needs one: when this
/// fails, landing pages, plan changes and acknowledgements all fail with it.
/// </summary>
public sealed class MarketplaceTokenCheck(IMarketplaceTokenProvider tokens) : IIntegrationCheck
{
    // Longer than MSAL's own network timeouts would be pointless; shorter would call a slow Entra "failing".
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public string Key => "marketplace-token";

    public string Title => "Marketplace token";

    public async Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Patience);
        try
        {
            var token = await tokens.GetAccessTokenWithExpiryAsync(timeout.Token);
            if (token.ExpiresOn is not { } expiresOn)
            {
                return CheckResult.Of(this, HealthState.Healthy, "Token obtained (its expiry is not known)", now);
            }

            // MSAL renews a cached token shortly before it expires, so one close to its end is normal, an expired one is not.
            return expiresOn <= now
                ? CheckResult.Of(this, HealthState.Failing, $"Token handed out already expired at {Durations.Time(expiresOn)}", now)
                : CheckResult.Of(this, HealthState.Healthy,
                    $"Token obtained, valid until {Durations.Time(expiresOn)} (for {Durations.Describe(expiresOn - now)})", now,
                    new CheckDetail("Valid until", Durations.Time(expiresOn)));
        }
        catch (MarketplaceException e)
        {
            // The error code names the cause (invalid_client, unauthorized_client…) without any credential in it.
            return CheckResult.Of(this, HealthState.Failing,
                $"No token: Entra answered {(int)e.StatusCode} {e.ErrorCode ?? "without an error code"}", now,
                new CheckDetail("What to do", "Check Marketplace:TenantId, ClientId and the secret or certificate of the app registration."));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return CheckResult.Of(this, HealthState.Failing, $"No token: Entra did not answer within {Patience.TotalSeconds:0} s", now);
        }
    }
}
