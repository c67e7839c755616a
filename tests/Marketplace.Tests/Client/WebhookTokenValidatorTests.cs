using Marketplace.Webhooks;

namespace Marketplace.Tests.Client;

/// <summary>Every check of docs/marketplace.md#webhook-authentication against tokens we mint ourselves, with keys
/// served as a tenant's metadata.</summary>
public sealed class WebhookTokenValidatorTests
{
    private readonly TestTokenIssuer _issuer = new();

    private Task<WebhookTokenValidation> Validate(string? authorization, Action<WebhookValidationOptions>? configure = null) =>
        _issuer.CreateValidator(configure).ValidateAsync(authorization);

    [Fact]
    public async Task A_v2_token_for_the_portal_with_azp_is_valid()
    {
        var result = await Validate($"Bearer {_issuer.Mint()}");

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(TestTokenIssuer.Tenant, result.Identity!.FindFirst("tid")!.Value);
    }

    [Fact]
    public async Task A_v1_token_with_appid_for_the_api_uri_is_valid()
    {
        var token = _issuer.Mint(issuer: $"https://sts.windows.net/{TestTokenIssuer.Tenant}/",
            audience: $"api://{TestTokenIssuer.PortalClientId}", appIdClaim: "appid");

        var result = await Validate($"Bearer {token}");

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public async Task A_v1_issuer_host_can_be_replaced_for_the_demo()
    {
        var token = _issuer.Mint(issuer: $"https://emulator.test/{TestTokenIssuer.Tenant}/");

        var result = await Validate($"Bearer {token}", o => o.V1IssuerInstances = [new Uri("https://emulator.test/")]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task A_delivery_without_a_bearer_token_is_refused(string? authorization)
    {
        var result = await Validate(authorization);

        Assert.Equal((WebhookTokenFailure.MissingToken, "missing bearer token"), (result.Failure, result.Reason));
    }

    [Fact]
    public async Task Garbage_in_the_bearer_header_is_a_malformed_token()
    {
        var result = await Validate("Bearer not-a-jwt");

        Assert.Equal(WebhookTokenFailure.MalformedToken, result.Failure);
    }

    [Fact]
    public async Task A_token_signed_by_a_key_the_tenant_never_published_has_a_bad_signature()
    {
        var token = _issuer.Mint(key: TestTokenIssuer.NewKey("key-forged"));

        var result = await Validate($"Bearer {token}");

        Assert.Equal((WebhookTokenFailure.BadSignature, "bad signature"), (result.Failure, result.Reason));
    }

    [Fact]
    public async Task A_token_claiming_a_published_key_id_but_signed_by_another_key_has_a_bad_signature()
    {
        var token = _issuer.Mint(key: TestTokenIssuer.NewKey(_issuer.SigningKey.KeyId!));

        var result = await Validate($"Bearer {token}");

        Assert.Equal(WebhookTokenFailure.BadSignature, result.Failure);
    }

    [Fact]
    public async Task A_token_signed_by_a_newly_rolled_over_key_is_valid_after_the_keys_are_fetched_again()
    {
        var validator = _issuer.CreateValidator();
        Assert.True((await validator.ValidateAsync($"Bearer {_issuer.Mint()}")).IsValid);
        var rolledOver = TestTokenIssuer.NewKey("key-2");
        _issuer.Publish(rolledOver);

        var result = await validator.ValidateAsync($"Bearer {_issuer.Mint(key: rolledOver)}");

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_refused()
    {
        var token = _issuer.Mint(issuer: "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/v2.0");

        var result = await Validate($"Bearer {token}");

        Assert.Equal((WebhookTokenFailure.WrongIssuer, "wrong issuer"), (result.Failure, result.Reason));
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var result = await Validate($"Bearer {_issuer.Mint(audience: "some-other-app")}");

        Assert.Equal((WebhookTokenFailure.WrongAudience, "wrong audience"), (result.Failure, result.Reason));
    }

    [Fact]
    public async Task A_token_of_another_tenant_is_refused()
    {
        var result = await Validate($"Bearer {_issuer.Mint(tenant: "00000000-0000-0000-0000-0000000000aa")}");

        Assert.Equal(WebhookTokenFailure.WrongTenant, result.Failure);
    }

    [Fact]
    public async Task A_token_obtained_by_another_app_is_refused()
    {
        var result = await Validate($"Bearer {_issuer.Mint(appId: "11111111-2222-3333-4444-555555555555")}");

        Assert.Equal((WebhookTokenFailure.WrongAppId, "wrong app id"), (result.Failure, result.Reason));
    }

    [Fact]
    public async Task A_token_naming_no_app_at_all_is_refused()
    {
        var result = await Validate($"Bearer {_issuer.Mint(appIdClaim: null)}");

        Assert.Equal(WebhookTokenFailure.WrongAppId, result.Failure);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var token = _issuer.Mint(issuedAt: TestTokenIssuer.Now.AddHours(-2), lifetime: TimeSpan.FromHours(1));

        var result = await Validate($"Bearer {token}");

        Assert.Equal((WebhookTokenFailure.Expired, "expired"), (result.Failure, result.Reason));
    }

    [Fact]
    public async Task A_token_stays_valid_within_the_clock_skew_and_expires_after_it()
    {
        var validator = _issuer.CreateValidator(o => o.ClockSkew = TimeSpan.FromMinutes(2));
        var token = $"Bearer {_issuer.Mint(issuedAt: TestTokenIssuer.Now.AddMinutes(-61), lifetime: TimeSpan.FromHours(1))}";

        var withinSkew = await validator.ValidateAsync(token);
        _issuer.Time.Advance(TimeSpan.FromMinutes(2));
        var pastSkew = await validator.ValidateAsync(token);

        Assert.Equal((true, WebhookTokenFailure.Expired), (withinSkew.IsValid, pastSkew.Failure));
    }

    [Fact]
    public async Task A_token_from_the_future_is_not_yet_valid()
    {
        var result = await Validate($"Bearer {_issuer.Mint(issuedAt: TestTokenIssuer.Now.AddMinutes(30))}");

        Assert.Equal(WebhookTokenFailure.NotYetValid, result.Failure);
    }

    [Fact]
    public async Task Unreachable_signing_keys_ask_for_a_later_delivery_instead_of_refusing()
    {
        var validator = _issuer.CreateValidator(o => o.Instance = new Uri("https://nowhere.test/"));

        var result = await validator.ValidateAsync($"Bearer {_issuer.Mint()}");

        Assert.Equal((WebhookTokenFailure.KeysUnavailable, true), (result.Failure, result.ShouldRetryLater));
    }
}
