using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Marketplace;
using Marketplace.Models;
using Marketplace.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;
using PublisherPortal.Health;
using PublisherPortal.Subscriptions;
using PublisherPortal.Tests.Support;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Health;

/// <summary>Every check through its states, on a real database, with time moved by the test.</summary>
public sealed class IntegrationCheckTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private DateTimeOffset Now => _db.Time.GetUtcNow();

    [Fact]
    public async Task Marketplace_token_is_healthy_with_its_expiry_and_never_shows_the_token()
    {
        var tokens = new StubTokenProvider { Answer = () => new MarketplaceAccessToken("eyJsecret", Now.AddMinutes(55)) };

        var result = await new MarketplaceTokenCheck(tokens).RunAsync(Now, default);

        Assert.Equal(HealthState.Healthy, result.State);
        Assert.Contains("2026-11-01 09:55:00 UTC", result.Figure);
        Assert.DoesNotContain("eyJsecret", result.Figure + string.Join(' ', result.Details));
    }

    [Fact]
    public async Task Marketplace_token_refused_by_entra_is_failing_with_the_error_code()
    {
        var tokens = new StubTokenProvider
        {
            Answer = () => throw new MarketplaceException(HttpStatusCode.Unauthorized, "invalid_client", "AADSTS7000215: Invalid client secret", ""),
        };

        var result = await new MarketplaceTokenCheck(tokens).RunAsync(Now, default);

        Assert.Equal(HealthState.Failing, result.State);
        Assert.Contains("401 invalid_client", result.Figure);
    }

    [Fact]
    public async Task Client_secret_turns_warning_at_30_days_and_failing_at_7_as_time_passes()
    {
        var check = CredentialCheck(new Marketplace.MarketplaceClientOptions { ClientSecret = "s" }, Now.AddDays(40));

        var states = new List<HealthState> { (await check.RunAsync(Now, default)).State };
        _db.Time.Advance(TimeSpan.FromDays(11)); // 29 days left
        states.Add((await check.RunAsync(Now, default)).State);
        _db.Time.Advance(TimeSpan.FromDays(23)); // 6 days left
        var aboutToExpire = await check.RunAsync(Now, default);
        states.Add(aboutToExpire.State);

        Assert.Equal([HealthState.Healthy, HealthState.Warning, HealthState.Failing], states);
        Assert.Contains("in 6 d", aboutToExpire.Figure);
    }

    [Fact]
    public async Task Expired_client_secret_says_how_long_ago()
    {
        var check = CredentialCheck(new Marketplace.MarketplaceClientOptions { ClientSecret = "s" }, Now.AddDays(-2));

        var result = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Failing, result.State);
        Assert.Contains("expired 2 d", result.Figure);
    }

    [Fact]
    public async Task Unknown_secret_expiry_outside_demo_is_a_warning_that_names_the_setting()
    {
        var result = await CredentialCheck(new Marketplace.MarketplaceClientOptions { ClientSecret = "s" }, null).RunAsync(Now, default);

        Assert.Equal(HealthState.Warning, result.State);
        Assert.Contains(result.Details, d => d.Value.Contains("Health:ClientSecretExpiresOn"));
    }

    [Fact]
    public async Task Certificate_credential_counts_down_to_its_not_after()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=portal-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(Now.AddDays(-1), Now.AddDays(20));
        var path = Path.Combine(Path.GetTempPath(), $"health-{Guid.NewGuid():N}.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, "pw"));
        try
        {
            // The secret's date is set too and must be ignored: the certificate is what the client uses.
            var check = CredentialCheck(new Marketplace.MarketplaceClientOptions { CertificatePath = path, CertificatePassword = "pw" }, Now.AddDays(400));

            var result = await check.RunAsync(Now, default);

            Assert.Equal(HealthState.Warning, result.State);
            Assert.StartsWith("Certificate ", result.Figure);
            Assert.Contains("in 20 d", result.Figure);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Webhooks_are_healthy_after_an_accepted_delivery_and_turn_warning_when_quiet_too_long()
    {
        await HealthData.SubscriptionAsync(_db, SubscriptionStatus.Subscribed);
        await HealthData.DeliveryAsync(_db, DeliveryResults.Accepted, processingState: ProcessingStates.Applied);
        var check = new WebhookCheck(_db.Database, HealthData.Options());

        var fresh = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromDays(15));
        var stale = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Healthy, fresh.State);
        Assert.Contains("1 accepted", fresh.Figure);
        Assert.Equal(HealthState.Warning, stale.State);
        Assert.Contains("No delivery accepted for 15 d", stale.Figure);
    }

    [Fact]
    public async Task Webhooks_fail_when_deliveries_keep_being_refused_for_authentication_and_say_why()
    {
        await HealthData.DeliveryAsync(_db, DeliveryResults.Accepted, processingState: ProcessingStates.Applied);
        _db.Time.Advance(TimeSpan.FromMinutes(1));
        await HealthData.DeliveryAsync(_db, DeliveryResults.Unauthorized, rejectReason: "audience not accepted");
        var check = new WebhookCheck(_db.Database, HealthData.Options());
        var oneRefusal = await check.RunAsync(Now, default);

        await HealthData.DeliveryAsync(_db, DeliveryResults.Unauthorized, rejectReason: "audience not accepted");
        await HealthData.DeliveryAsync(_db, DeliveryResults.Unauthorized, rejectReason: "audience not accepted");
        var refusedAgain = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Warning, oneRefusal.State);
        Assert.Equal(HealthState.Failing, refusedAgain.State);
        Assert.Contains("3 deliveries refused for authentication", refusedAgain.Figure);
        Assert.Contains(refusedAgain.Details, d => d.Label == "Last rejected" && d.Value.Contains("audience not accepted"));
        Assert.Contains(refusedAgain.Details, d => d.Label == "Refused for authentication" && d.Value.StartsWith("75", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Webhooks_fail_when_an_accepted_delivery_waits_too_long_to_be_applied()
    {
        await HealthData.DeliveryAsync(_db, DeliveryResults.Accepted, processingState: ProcessingStates.Pending);
        var check = new WebhookCheck(_db.Database, HealthData.Options());

        var justArrived = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromMinutes(6));
        var stuck = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Healthy, justArrived.State);
        Assert.Equal(HealthState.Failing, stuck.State);
        Assert.Contains("processor is not keeping up", stuck.Figure);
    }

    [Fact]
    public async Task Self_test_deliveries_do_not_count_as_the_marketplace_getting_through()
    {
        await HealthData.SubscriptionAsync(_db, SubscriptionStatus.Subscribed);
        await HealthData.DeliveryAsync(_db, DeliveryResults.Accepted, WebhookTestDelivery.Action, processingState: ProcessingStates.Ignored);

        var result = await new WebhookCheck(_db.Database, HealthData.Options()).RunAsync(Now, default);

        Assert.Equal(HealthState.Warning, result.State);
        Assert.Contains("0 accepted", result.Details.Single(d => d.Label == "Last 24 hours").Value);
    }

    [Fact]
    public async Task A_pending_acknowledgement_turns_warning_past_the_10_second_window_and_failing_after_minutes()
    {
        await HealthData.AcknowledgementAsync(_db, AcknowledgementStates.Pending);
        var check = new AcknowledgementCheck(_db.Database, HealthData.Options());

        var fresh = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromSeconds(11));
        var late = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromMinutes(5));
        var old = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Healthy, fresh.State);
        Assert.Equal(HealthState.Warning, late.State);
        Assert.Contains("oldest 11 s against the 10 s window", late.Figure);
        Assert.Equal(HealthState.Failing, old.State);
    }

    [Fact]
    public async Task A_failed_acknowledgement_is_failing_for_a_day_then_a_warning()
    {
        await HealthData.AcknowledgementAsync(_db, AcknowledgementStates.Failed);
        var check = new AcknowledgementCheck(_db.Database, HealthData.Options());

        var recent = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromHours(25));
        var older = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Failing, recent.State);
        Assert.Contains("1 failed", recent.Figure);
        Assert.Equal(HealthState.Warning, older.State);
    }

    [Fact]
    public async Task Our_operation_pending_longer_than_expected_turns_warning_then_failing()
    {
        var subscription = await HealthData.SubscriptionAsync(_db, SubscriptionStatus.Subscribed);
        await HealthData.OperationAsync(_db, subscription, OperationStates.InProgress);
        var check = new OperationCheck(_db.Database, HealthData.Options());

        var fresh = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromMinutes(16));
        var slow = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromHours(2));
        var stuck = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Healthy, fresh.State);
        Assert.Equal(HealthState.Warning, slow.State);
        Assert.Contains("1 running, 1 longer than 15 min", slow.Figure);
        Assert.Equal(HealthState.Failing, stuck.State);
    }

    [Fact]
    public async Task Reconciliation_is_healthy_after_a_clean_run_warning_after_corrections_and_failing_when_it_stops()
    {
        var check = ReconciliationCheckOver(_db);
        var never = await check.RunAsync(Now, default);
        await HealthData.ReconciliationRunAsync(_db);
        var clean = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromMinutes(1));
        await HealthData.ReconciliationRunAsync(_db, corrected: 2);
        var corrected = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromHours(4));
        var stopped = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Warning, never.State);
        Assert.Equal(HealthState.Healthy, clean.State);
        Assert.Equal(HealthState.Warning, corrected.State);
        Assert.Contains("2 corrected", corrected.Figure);
        Assert.Equal(HealthState.Failing, stopped.State);
    }

    /// <summary>
    /// Regression: a portal started after a stop of some hours alerted "Reconciliation turned failing" at once: its first
    /// health round judged the hours-old last run while the reconciliation's own first round was still running.
    /// </summary>
    [Fact]
    public async Task A_round_running_after_a_long_stop_keeps_reconciliation_from_failing_until_it_too_misses_rounds()
    {
        var interval = new WebhooksOptions().ReconcileInterval;
        await HealthData.ReconciliationRunAsync(_db);
        _db.Time.Advance(TimeSpan.FromHours(5));
        // The portal starts again: its reconciliation takes the job's lease and begins a round (one instance; any other
        // reads the same lease, so every instance judges alike).
        await new JobLeaseStore(_db.Database).TryAcquireAsync(ReconciliationWorker.JobName, "instance-b", Now, ReconciliationWorker.LeaseUntil(Now, interval));
        var check = ReconciliationCheckOver(_db);

        var whileTheRoundRuns = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromHours(3.5));
        var neverFinished = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Warning, whileTheRoundRuns.State);
        Assert.Contains("Last run 5 h ago", whileTheRoundRuns.Figure);
        Assert.Equal(HealthState.Failing, neverFinished.State);
    }

    private static ReconciliationCheck ReconciliationCheckOver(TestDatabase db) => new(
        new ReconciliationRunStore(db.Database), new JobLeaseStore(db.Database), Microsoft.Extensions.Options.Options.Create(new WebhooksOptions()));

    [Fact]
    public async Task Abandoned_purchase_is_listed_with_the_beneficiarys_contact_after_the_configured_hours()
    {
        await HealthData.SubscriptionAsync(_db, SubscriptionStatus.PendingFulfillmentStart, "bob@fabrikam.example", "Fabrikam reports");
        await HealthData.SubscriptionAsync(_db, SubscriptionStatus.Subscribed, "carol@contoso.example");
        var check = new AbandonedPurchaseCheck(_db.Database, HealthData.Options(o => o.AbandonedPurchaseHours = 24));

        var fresh = await check.RunAsync(Now, default);
        _db.Time.Advance(TimeSpan.FromHours(25));
        var abandoned = await check.RunAsync(Now, default);

        Assert.Equal(HealthState.Healthy, fresh.State);
        Assert.Equal(HealthState.Warning, abandoned.State);
        Assert.StartsWith("1 purchases not activated after 1 d", abandoned.Figure);
        var line = Assert.Single(abandoned.Details);
        Assert.StartsWith("Fabrikam reports", line.Label);
        Assert.Contains("bob@fabrikam.example", line.Value);
        // The figure goes to logs and alert webhooks: counts only, never a customer's address.
        Assert.DoesNotContain("@", abandoned.Figure);
    }

    private CredentialExpiryCheck CredentialCheck(Marketplace.MarketplaceClientOptions client, DateTimeOffset? secretExpiresOn) =>
        new(Microsoft.Extensions.Options.Options.Create(client),
            HealthData.Options(o => o.ClientSecretExpiresOn = secretExpiresOn),
            new ServiceCollection().BuildServiceProvider());
}
