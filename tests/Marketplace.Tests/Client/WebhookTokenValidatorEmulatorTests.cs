using Marketplace.Emulator;
using Marketplace.Emulator.Identity;
using Marketplace.Webhooks;
using Microsoft.Extensions.Time.Testing;

namespace Marketplace.Tests.Client;

/// <summary>The validator against tokens the emulator signs as Microsoft's side would, keys fetched over pinned HTTPS.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class WebhookTokenValidatorEmulatorTests(EmulatorFixture fixture)
{
    private async Task<WebhookTokenValidation> ValidateMinted(WebhookTokenOverrides? overrides = null, TimeProvider? time = null)
    {
        var token = await fixture.Simulator.MintWebhookTokenAsync(overrides);
        return await EmulatorClient.CreateValidator(fixture.Emulator, time).ValidateAsync($"Bearer {token}");
    }

    private string V2Issuer => $"{fixture.Emulator.IdentityInstance}{fixture.Options.PublisherTenantId}/v2.0";

    [Fact]
    public async Task A_token_minted_for_a_delivery_is_valid()
    {
        var result = await ValidateMinted();

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public async Task A_v1_issuer_on_the_emulator_host_is_valid()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { Issuer = $"{fixture.Emulator.IdentityInstance}{fixture.Options.PublisherTenantId}/" });

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public async Task The_marketplace_id_in_azp_alone_is_enough()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { AppId = "11111111-2222-3333-4444-555555555555", Azp = fixture.Options.MarketplaceAppId });

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public async Task A_token_signed_by_a_key_the_emulator_never_published_has_a_bad_signature()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { SignWithUnknownKey = true });

        Assert.Equal(WebhookTokenFailure.BadSignature, result.Failure);
    }

    [Fact]
    public async Task A_token_we_sign_ourselves_has_a_bad_signature()
    {
        var ours = new TestTokenIssuer().Mint(issuer: V2Issuer, audience: fixture.Options.PortalClientId, tenant: fixture.Options.PublisherTenantId);

        var result = await EmulatorClient.CreateValidator(fixture.Emulator).ValidateAsync($"Bearer {ours}");

        Assert.Equal(WebhookTokenFailure.BadSignature, result.Failure);
    }

    [Fact]
    public async Task A_token_of_the_real_Entra_issuer_is_wrong_in_demo_mode()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { Issuer = $"https://login.microsoftonline.com/{fixture.Options.PublisherTenantId}/v2.0" });

        Assert.Equal(WebhookTokenFailure.WrongIssuer, result.Failure);
    }

    [Fact]
    public async Task A_token_for_another_app_registration_has_the_wrong_audience()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { Audience = "another-portal" });

        Assert.Equal(WebhookTokenFailure.WrongAudience, result.Failure);
    }

    [Fact]
    public async Task A_token_of_another_tenant_under_our_issuer_is_refused()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { Issuer = V2Issuer, TenantId = "00000000-0000-0000-0000-0000000000aa" });

        Assert.Equal(WebhookTokenFailure.WrongTenant, result.Failure);
    }

    [Fact]
    public async Task A_token_without_the_marketplace_app_id_is_refused()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { AppId = "11111111-2222-3333-4444-555555555555" });

        Assert.Equal(WebhookTokenFailure.WrongAppId, result.Failure);
    }

    [Fact]
    public async Task A_token_is_expired_once_our_clock_passes_its_lifetime()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(2));

        var result = await ValidateMinted(time: clock);

        Assert.Equal(WebhookTokenFailure.Expired, result.Failure);
    }

    [Fact]
    public async Task A_token_issued_two_hours_ago_is_expired()
    {
        var result = await ValidateMinted(new WebhookTokenOverrides { IssuedAt = DateTimeOffset.UtcNow.AddHours(-2), Lifetime = TimeSpan.FromHours(1) });

        Assert.Equal(WebhookTokenFailure.Expired, result.Failure);
    }
}
