using System.Security.Claims;

namespace Marketplace.Webhooks;

/// <summary>Why a webhook token was refused. Each value is one check of docs/marketplace.md#webhook-authentication.</summary>
public enum WebhookTokenFailure
{
    None = 0,
    MissingToken,
    MalformedToken,
    BadSignature,
    WrongIssuer,
    WrongAudience,
    WrongTenant,
    WrongAppId,
    Expired,
    NotYetValid,

    /// <summary>
    /// The tenant's signing keys could not be fetched: nothing is known about the token. The endpoint must answer
    /// 5xx so the marketplace delivers again — a 4xx would refuse a genuine ChangePlan/ChangeQuantity (docs/marketplace.md#answering-deliveries).
    /// </summary>
    KeysUnavailable,
}

/// <summary>The verdict on a webhook's bearer token: valid with its claims, or refused with a reason fit for a log line.</summary>
public sealed record WebhookTokenValidation
{
    public bool IsValid => Failure == WebhookTokenFailure.None;
    public WebhookTokenFailure Failure { get; private init; }

    /// <summary>A short reason such as "missing bearer token" or "wrong audience"; never contains the token.</summary>
    public string Reason { get; private init; } = "";

    public ClaimsIdentity? Identity { get; private init; }

    /// <summary>True when the validator could not judge the token (see <see cref="WebhookTokenFailure.KeysUnavailable"/>).</summary>
    public bool ShouldRetryLater => Failure == WebhookTokenFailure.KeysUnavailable;

    public static WebhookTokenValidation Valid(ClaimsIdentity identity) =>
        new() { Failure = WebhookTokenFailure.None, Reason = "valid", Identity = identity };

    public static WebhookTokenValidation Refused(WebhookTokenFailure failure, string reason) =>
        new() { Failure = failure, Reason = reason };
}
