using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Marketplace;

/// <summary>
/// The resilience pipeline of the fulfillment client, outermost first:
/// a total timeout (one call, retries and waits included), retries, a circuit breaker, and a per-attempt timeout.
/// </summary>
internal static class MarketplaceResilience
{
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, MarketplaceClientOptions options)
    {
        // Waits on the network are wall-clock waits, whatever clock the application keeps its records by. Under a frozen
        // clock (a test's) a retry delay never ended, and disposing the pipeline waited forever for that call.
        pipeline.TimeProvider = TimeProvider.System;

        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Name = "Marketplace.TotalTimeout", Timeout = options.Timeout });

        if (options.MaxRetryAttempts > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                Name = "Marketplace.Retry",
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                // The marketplace's 429 names how long to wait; waiting less only earns another 429.
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context)),
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            Name = "Marketplace.CircuitBreaker",
            // Generous thresholds: pause only when the marketplace is clearly down, so that one bad minute does not
            // turn every landing-page visit into a slow time-out. A 429 is not a failure of the service: not counted.
            FailureRatio = 0.8,
            MinimumThroughput = 30,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(15),
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Result?.StatusCode != HttpStatusCode.TooManyRequests
                && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
        });

        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Name = "Marketplace.AttemptTimeout", Timeout = options.AttemptTimeout });
    }

    /// <summary>
    /// Why retries depend on the request and not only on the answer: a 5xx or a time-out does not tell whether the
    /// marketplace carried the request out before failing. Repeating a read, a resolve, an activation or an
    /// operation-status update is harmless (the same outcome again), so those are retried on any transient failure.
    /// Repeating a change of plan or quantity, or a cancellation, could start a second operation — so those are
    /// repeated only after a 429, which means the request was refused before anything was done. Their 5xx and
    /// time-outs go back to the caller, who reconciles with the outstanding operations.
    /// </summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return true;
        }

        var request = context.GetRequestMessage() ?? outcome.Result?.RequestMessage;
        return RetrySafetyOption.Of(request) == RetrySafety.Idempotent
            && HttpClientResiliencePredicates.IsTransient(outcome);
    }
}
