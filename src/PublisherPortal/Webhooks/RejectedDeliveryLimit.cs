using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace PublisherPortal.Webhooks;

/// <summary>
/// The webhook endpoint is anonymous to ASP.NET Core (the marketplace signs with its own token), so anyone can post
/// to it. Each source — the remote address, after the forwarded-headers middleware where a proxy is trusted — has a
/// fixed window of refusals that only its refused deliveries (401/400) use up: a genuine delivery never spends one, so the
/// marketplace is never throttled by someone else's junk. A source whose window is used up is answered 429 with
/// Retry-After by ASP.NET Core's rate limiter before its body is read, and nothing of it is stored.
/// https://learn.microsoft.com/aspnet/core/performance/rate-limit
/// </summary>
public sealed class RejectedDeliveryLimit : IDisposable
{
    public const string PolicyName = "webhook-rejected-deliveries";

    private readonly PartitionedRateLimiter<string> _windows;

    public RejectedDeliveryLimit(IOptions<WebhooksOptions> options)
    {
        var o = options.Value;
        _windows = PartitionedRateLimiter.Create<string, string>(source => RateLimitPartition.GetFixedWindowLimiter(source, _ =>
            new FixedWindowRateLimiterOptions
            {
                PermitLimit = o.RejectedPerSource,
                Window = o.RejectedWindow,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    public static string SourceOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>Counts one refused delivery against its source.</summary>
    public void CountRefusal(HttpContext context) => _windows.AttemptAcquire(SourceOf(context), 1).Dispose();

    /// <summary>
    /// Asks without spending (zero permits): granted while the source still has refusals left, refused — with the time
    /// until the window ends — once it has none.
    /// </summary>
    internal RateLimitLease Check(string source) => _windows.AttemptAcquire(source, 0);

    public void Dispose() => _windows.Dispose();
}

/// <summary>The endpoint's rate-limiter policy: one partition per source, each only looking at that source's window.</summary>
public sealed class RejectedDeliveryPolicy(RejectedDeliveryLimit limit) : IRateLimiterPolicy<string>
{
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = async (context, ct) =>
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Results.Problem(
                title: "Too many refused deliveries",
                detail: "This source sent too many deliveries that were refused; try again after the time in Retry-After.",
                statusCode: StatusCodes.Status429TooManyRequests)
            .ExecuteAsync(context.HttpContext);
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        var source = RejectedDeliveryLimit.SourceOf(httpContext);
        return RateLimitPartition.Get(source, key => new PeekingLimiter(limit, key));
    }

    /// <summary>Grants a request while its source has refusals left, spending nothing: only a refusal spends.</summary>
    private sealed class PeekingLimiter(RejectedDeliveryLimit limit, string source) : RateLimiter
    {
        // Holds no state of its own (the windows do): reported long idle, so the middleware drops it at its next
        // sweep instead of keeping one per address ever seen.
        public override TimeSpan? IdleDuration => TimeSpan.FromDays(1);

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => limit.Check(source);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(limit.Check(source));
    }
}
