using System.Net;

namespace Marketplace;

/// <summary>The one failure type of the marketplace client: what the service answered, and the request to quote to support.</summary>
public sealed class MarketplaceException(
    HttpStatusCode statusCode,
    string? errorCode,
    string errorMessage,
    string requestId,
    string? rawBody = null,
    Exception? inner = null)
    : Exception($"Marketplace answered {(int)statusCode} {errorCode}: {errorMessage} (request {requestId})", inner)
{
    public HttpStatusCode StatusCode { get; } = statusCode;
    public string? ErrorCode { get; } = errorCode;
    public string ErrorMessage { get; } = errorMessage;
    public string RequestId { get; } = requestId;

    /// <summary>The body as received when none of the known error shapes fitted (docs/marketplace.md#error-bodies).</summary>
    public string? RawBody { get; } = rawBody;

    /// <summary>The marketplace refuses a change while another operation is in flight: 409, or 400 "…pending
    /// operation…" (docs/marketplace.md#pending-operations).</summary>
    public bool IsPendingOperation =>
        StatusCode == HttpStatusCode.Conflict
        || (StatusCode == HttpStatusCode.BadRequest
            && (ErrorMessage.Contains("pending operation", StringComparison.OrdinalIgnoreCase)
                || ErrorMessage.Contains("locked", StringComparison.OrdinalIgnoreCase)));
}
