using System.Net;
using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Marketplace.Tests.Emulator;

/// <summary>Microsoft's side of the webhook (docs/marketplace.md#webhooks): signed deliveries, the publisher's answers, retries.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class WebhookTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task A_customer_plan_change_is_delivered_with_a_token_that_validates_against_the_published_keys()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        var operationId = await fixture.Simulator.ChangePlanAsync(purchase.SubscriptionId, "business");
        var delivery = await SingleDeliveryAsync(operationId);
        var token = delivery.Authorization!["Bearer ".Length..];
        var result = await ValidateAsPublisherAsync(token);

        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal(fixture.Options.MarketplaceAppId, jwt.GetClaim("azp").Value);
        Assert.Equal(fixture.Options.MarketplaceAppId, jwt.GetClaim("appid").Value);
        Assert.Equal(fixture.Options.PublisherTenantId, jwt.GetClaim("tid").Value);
    }

    [Fact]
    public async Task A_plan_change_delivery_carries_the_operation_and_the_subscription_before_the_change()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        var operationId = await fixture.Simulator.ChangePlanAsync(purchase.SubscriptionId, "business");
        var delivery = (await SingleDeliveryAsync(operationId)).Operation;

        Assert.Equal("ChangePlan", delivery.Action);
        Assert.Equal(OperationStatus.InProgress, delivery.Status);
        Assert.Equal("Azure", delivery.RequestSource);
        Assert.Equal("business", delivery.PlanId);
        Assert.Equal("team", delivery.Subscription!.PlanId);
        Assert.Null(delivery.PurchaseToken);
    }

    [Fact]
    public async Task Acknowledging_success_applies_the_change_and_a_repeat_is_harmless_but_a_contradiction_conflicts()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        var operationId = await fixture.Simulator.ChangeQuantityAsync(purchase.SubscriptionId, 9);
        await SingleDeliveryAsync(operationId);
        var path = $"saas/subscriptions/{purchase.SubscriptionId}/operations/{operationId}";

        using var ack = await fixture.ApiAsync(HttpMethod.Patch, path, OperationStatusUpdate.Success);
        using var repeat = await fixture.ApiAsync(HttpMethod.Patch, path, OperationStatusUpdate.Success);
        using var contradiction = await fixture.ApiAsync(HttpMethod.Patch, path, OperationStatusUpdate.Failure);

        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, contradiction.StatusCode);
        Assert.Equal(9, fixture.Simulator.Find(purchase.SubscriptionId)!.Quantity);
        Assert.Equal(OperationStatus.Succeeded, fixture.Simulator.FindOperation(operationId)!.Status);
        Assert.Equal([200, 200, 409], fixture.Simulator.StatusUpdatesFor(operationId).Select(u => u.AnsweredStatusCode));
    }

    [Fact]
    public async Task Acknowledging_failure_leaves_plan_and_seats_unchanged()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        var operationId = await fixture.Simulator.ChangePlanAsync(purchase.SubscriptionId, "starter");
        await SingleDeliveryAsync(operationId);

        using var nack = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}/operations/{operationId}", OperationStatusUpdate.Failure);

        Assert.Equal(HttpStatusCode.OK, nack.StatusCode);
        Assert.Equal(OperationStatus.Failed, fixture.Simulator.FindOperation(operationId)!.Status);
        Assert.Equal("team", fixture.Simulator.Find(purchase.SubscriptionId)!.PlanId);
    }

    [Fact]
    public async Task Answering_a_change_delivery_with_a_4xx_refuses_the_change()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        fixture.Webhooks.AnswerNext(purchase.SubscriptionId, 400);

        var operationId = await fixture.Simulator.ChangeQuantityAsync(purchase.SubscriptionId, 4);
        await fixture.Simulator.WhenDeliveriesIdleAsync();

        Assert.Equal(OperationStatus.Failed, fixture.Simulator.FindOperation(operationId)!.Status);
        Assert.Equal(1, fixture.Simulator.Find(purchase.SubscriptionId)!.Quantity);
        Assert.Single(fixture.Simulator.DeliveriesFor(operationId));
    }

    [Fact]
    public async Task A_delivery_answered_500_is_retried_until_accepted_and_every_attempt_is_recorded()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        fixture.Webhooks.AnswerNext(purchase.SubscriptionId, 500, 503);

        var operationId = await fixture.Simulator.RenewAsync(purchase.SubscriptionId);
        await fixture.Simulator.WhenDeliveriesIdleAsync();

        Assert.Equal([500, 503, 200], fixture.Simulator.DeliveriesFor(operationId).Select(a => a.StatusCode));
        Assert.Equal([1, 2, 3], fixture.Simulator.DeliveriesFor(operationId).Select(a => a.AttemptNumber));
    }

    [Fact]
    public async Task A_change_never_accepted_fails_after_the_last_retry()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        fixture.Webhooks.AnswerNext(purchase.SubscriptionId, 500, 500, 500, 500);

        var operationId = await fixture.Simulator.ChangeQuantityAsync(purchase.SubscriptionId, 3);
        await fixture.Simulator.WhenDeliveriesIdleAsync();

        Assert.Equal(fixture.Options.WebhookRetry.MaxAttempts, fixture.Simulator.DeliveriesFor(operationId).Count);
        Assert.Equal(OperationStatus.Failed, fixture.Simulator.FindOperation(operationId)!.Status);
    }

    [Fact]
    public async Task Suspend_is_applied_first_and_told_as_succeeded()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        var operationId = await fixture.Simulator.SuspendAsync(purchase.SubscriptionId);
        var delivery = (await SingleDeliveryAsync(operationId)).Operation;

        Assert.Equal(OperationStatus.Succeeded, delivery.Status);
        Assert.Equal(SubscriptionStatus.Suspended, delivery.Subscription!.SaasSubscriptionStatus);
        Assert.Equal(SubscriptionStatus.Suspended, fixture.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task Reinstate_waits_for_the_publishers_success_before_the_subscription_is_Subscribed_again()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        await fixture.Simulator.SuspendAsync(purchase.SubscriptionId);

        var operationId = await fixture.Simulator.ReinstateAsync(purchase.SubscriptionId);
        await SingleDeliveryAsync(operationId);
        var whileWaiting = fixture.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus;
        using var ack = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}/operations/{operationId}", OperationStatusUpdate.Success);

        Assert.Equal(SubscriptionStatus.Suspended, whileWaiting);
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        Assert.Equal(SubscriptionStatus.Subscribed, fixture.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task The_publisher_may_answer_a_reinstatement_by_cancelling()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        await fixture.Simulator.SuspendAsync(purchase.SubscriptionId);
        var operationId = await fixture.Simulator.ReinstateAsync(purchase.SubscriptionId);

        using var delete = await fixture.ApiAsync(HttpMethod.Delete, $"saas/subscriptions/{purchase.SubscriptionId}");

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        Assert.Equal(OperationStatus.Failed, fixture.Simulator.FindOperation(operationId)!.Status);
        await EmulatorFixture.EventuallyAsync(() => fixture.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus == SubscriptionStatus.Unsubscribed, "the cancellation finishes");
    }

    [Fact]
    public async Task Unsubscribe_is_told_as_succeeded_after_the_subscription_ended()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);

        var operationId = await fixture.Simulator.UnsubscribeAsync(purchase.SubscriptionId);
        var delivery = (await SingleDeliveryAsync(operationId)).Operation;

        Assert.Equal("Unsubscribe", delivery.Action);
        Assert.Equal(OperationStatus.Succeeded, delivery.Status);
        Assert.Equal(SubscriptionStatus.Unsubscribed, fixture.Simulator.Find(purchase.SubscriptionId)!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task A_customer_change_pending_an_answer_locks_the_publishers_changes()
    {
        var purchase = await fixture.PurchaseAsync(activate: true);
        await fixture.Simulator.ChangeQuantityAsync(purchase.SubscriptionId, 5);

        using var patch = await fixture.ApiAsync(HttpMethod.Patch, $"saas/subscriptions/{purchase.SubscriptionId}", new { planId = "business" });

        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        await Assert.ThrowsAsync<SimulationRefusedException>(() => fixture.Simulator.ChangePlanAsync(purchase.SubscriptionId, "starter"));
    }

    private async Task<ReceivedWebhook> SingleDeliveryAsync(Guid operationId)
    {
        await EmulatorFixture.EventuallyAsync(() => fixture.Webhooks.For(operationId).Count > 0, $"a delivery of {operationId}");
        return fixture.Webhooks.For(operationId).Single();
    }

    /// <summary>Validates as a publisher would: keys and issuer from the tenant's OpenID metadata, audience = the portal's client id.</summary>
    private async Task<TokenValidationResult> ValidateAsPublisherAsync(string token)
    {
        var metadataAddress = new Uri(fixture.Emulator.IdentityInstance, $"{fixture.Options.PublisherTenantId}/v2.0/.well-known/openid-configuration");
        var configuration = await new ConfigurationManager<OpenIdConnectConfiguration>(metadataAddress.ToString(), new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(fixture.Http)).GetConfigurationAsync(CancellationToken.None);
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = fixture.Options.PortalClientId,
            IssuerSigningKeys = configuration.SigningKeys,
        });
    }
}
