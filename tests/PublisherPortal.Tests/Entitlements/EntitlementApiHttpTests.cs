using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Entitlements;
using PublisherPortal.Tests.Metering;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Entitlements;

/// <summary>
/// GET /api/entitlements over real loopback HTTP: the entitlement API beside the usage intake in demo mode (API key), on
/// the test run's database (SQLite or PostgreSQL), the plan catalogue in the plans table.
/// </summary>
public sealed class EntitlementApiHttpTests : IAsyncLifetime
{
    private const string ApiKey = "test-product-key-0123456789";
    private const string Tenant = "11111111-1111-1111-1111-111111111111";

    private TestDatabase _db = null!;
    private IntakeHost _host = null!;
    private SubscriptionStore _store = null!;
    private MarketplaceSubscription _active = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await MeteringHarness.SeedPlansAsync(_db);
        _store = new SubscriptionStore(_db.Database, _db.Time);
        _active = Samples.Subscription(status: SubscriptionStatus.Subscribed, planId: "team", quantity: 5);
        await RecordAsync(_active);
        _host = await IntakeHost.StartAsync(_db, new Dictionary<string, string?>
        {
            ["Portal:Mode"] = "Demo",
            ["Metering:ApiKeys:test-product"] = ApiKey,
        }, builder => builder.AddEntitlements(), app => app.MapEntitlementEndpoints());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task RecordAsync(MarketplaceSubscription s)
    {
        await using var connection = await _db.Database.OpenAsync();
        await using var tx = await _db.Database.BeginWriteAsync(connection);
        await _store.RecordFromMarketplaceAsync(s, connection, tx);
        await tx.CommitAsync();
    }

    private Task<HttpResponseMessage> GetAsync(string path, string? apiKey = ApiKey, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return _host.Http.SendAsync(request);
    }

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    private Task<ChangeResult> ChangeAsync(Guid id, string kind, SubscriptionStatus? status = null, int? seats = null, string? plan = null) =>
        _store.ApplyChangeAsync(new SubscriptionChange(id, kind, EventSources.Marketplace, "test")
        {
            Status = status,
            Quantity = seats,
            PlanId = plan,
        });

    [Fact]
    public async Task An_active_subscription_is_granted_with_its_plan_seats_term_and_answers()
    {
        await using (var connection = await _db.Database.OpenAsync())
        {
            await connection.ExecuteAsync(
                "UPDATE subscriptions SET account_settings = @settings WHERE id = @id",
                new { id = _active.Id.ToString("D"), settings = """{"DataRegion":"westeurope","Fields":{"costCentre":"CC-42"}}""" });
        }

        await ChangeAsync(_active.Id, EventKinds.QuantityChanged, seats: 7);
        string planName;
        await using (var connection = await _db.Database.OpenAsync())
        {
            planName = await connection.ExecuteScalarAsync<string>(
                "SELECT display_name FROM plans WHERE offer_id = 'insights-saas' AND plan_id = 'team'") ?? "";
        }

        using var response = await GetAsync($"/api/entitlements/{_active.Id}");
        var body = await JsonOf(response);

        Assert.True(body.GetProperty("access").GetProperty("granted").GetBoolean());
        Assert.False(body.GetProperty("access").TryGetProperty("reason", out _));
        Assert.Equal("team", body.GetProperty("plan").GetProperty("id").GetString());
        Assert.Equal(planName, body.GetProperty("plan").GetProperty("displayName").GetString());
        Assert.NotEqual("", planName);
        Assert.Equal(7, body.GetProperty("seats").GetInt32());
        Assert.Equal("P1M", body.GetProperty("term").GetProperty("unit").GetString());
        Assert.True(body.GetProperty("term").GetProperty("autoRenew").GetBoolean());
        Assert.Equal(_active.Term!.EndDate, body.GetProperty("term").GetProperty("renewsAt").GetDateTimeOffset());
        Assert.Equal("CC-42", body.GetProperty("customFields").GetProperty("costCentre").GetString());
        Assert.Equal(_active.Beneficiary!.EmailId, body.GetProperty("customer").GetProperty("email").GetString());
        Assert.True(body.GetProperty("version").GetInt64() > 0);
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task The_etag_answers_304_until_the_subscription_changes_and_the_version_grows()
    {
        await ChangeAsync(_active.Id, EventKinds.QuantityChanged, seats: 6);
        using var first = await GetAsync($"/api/entitlements/{_active.Id}");
        var before = (await JsonOf(first)).GetProperty("version").GetInt64();
        var etag = first.Headers.ETag!.ToString();

        using var unchanged = await GetAsync($"/api/entitlements/{_active.Id}", ifNoneMatch: etag);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal("", await unchanged.Content.ReadAsStringAsync());

        await ChangeAsync(_active.Id, EventKinds.Suspended, status: SubscriptionStatus.Suspended);
        using var changed = await GetAsync($"/api/entitlements/{_active.Id}", ifNoneMatch: etag);
        var after = await JsonOf(changed);

        Assert.True(after.GetProperty("version").GetInt64() > before);
        Assert.NotEqual(etag, changed.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task A_suspended_subscription_says_since_when_and_when_the_marketplace_ends_it()
    {
        var suspendedAt = _db.Time.GetUtcNow();
        await ChangeAsync(_active.Id, EventKinds.Suspended, status: SubscriptionStatus.Suspended);

        using var response = await GetAsync($"/api/entitlements/{_active.Id}");
        var access = (await JsonOf(response)).GetProperty("access");

        Assert.False(access.GetProperty("granted").GetBoolean());
        Assert.Equal(AccessReasons.Suspended, access.GetProperty("reason").GetString());
        Assert.Equal(suspendedAt, access.GetProperty("suspendedSince").GetDateTimeOffset());
        Assert.Equal(suspendedAt.AddDays(30), access.GetProperty("endsAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Ended_pending_and_awaiting_approval_subscriptions_say_why_access_is_refused()
    {
        var pending = Samples.Subscription();
        var awaiting = Samples.Subscription();
        await RecordAsync(pending);
        await RecordAsync(awaiting);
        await ChangeAsync(_active.Id, EventKinds.Unsubscribed, status: SubscriptionStatus.Unsubscribed);
        await using (var connection = await _db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO activation_approvals (subscription_id, offer_id, state, requested_at, requested_by)
                VALUES (@id, 'insights-saas', 'Pending', @now, 'alice')
                """, new { id = awaiting.Id.ToString("D"), now = _db.Time.GetUtcNow() });
        }

        async Task<string?> ReasonOf(Guid id)
        {
            using var response = await GetAsync($"/api/entitlements/{id}");
            var access = (await JsonOf(response)).GetProperty("access");
            Assert.False(access.GetProperty("granted").GetBoolean());
            return access.GetProperty("reason").GetString();
        }

        Assert.Equal(AccessReasons.Ended, await ReasonOf(_active.Id));
        Assert.Equal(AccessReasons.PendingActivation, await ReasonOf(pending.Id));
        Assert.Equal(AccessReasons.AwaitingApproval, await ReasonOf(awaiting.Id));
    }

    [Fact]
    public async Task A_tenant_lists_its_subscriptions_and_a_user_finds_theirs_by_object_id_or_email()
    {
        var other = Samples.Subscription(status: SubscriptionStatus.Subscribed, beneficiaryTenant: "22222222-2222-2222-2222-222222222222");
        var second = Samples.Subscription(status: SubscriptionStatus.Subscribed) with
        {
            Beneficiary = new Party { EmailId = "bob@contoso.example", ObjectId = Guid.NewGuid().ToString(), TenantId = Tenant },
            Purchaser = new Party { EmailId = "bob@contoso.example", ObjectId = Guid.NewGuid().ToString(), TenantId = Tenant },
        };
        await RecordAsync(other);
        await RecordAsync(second);

        static IEnumerable<Guid> Ids(JsonElement list) =>
            list.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("subscriptionId").GetGuid());

        using var tenant = await GetAsync($"/api/entitlements?tenantId={Tenant.ToUpperInvariant()}");
        Assert.Equal(new[] { _active.Id, second.Id }.Order(), Ids(await JsonOf(tenant)).Order());

        using var byEmail = await GetAsync($"/api/entitlements?tenantId={Tenant}&email=BOB@contoso.example");
        Assert.Equal([second.Id], Ids(await JsonOf(byEmail)));

        using var byObjectId = await GetAsync($"/api/entitlements?tenantId={Tenant}&userObjectId={_active.Beneficiary!.ObjectId}");
        Assert.Equal([_active.Id], Ids(await JsonOf(byObjectId)));

        // The same user in another tenant is somebody else.
        using var elsewhere = await GetAsync($"/api/entitlements?tenantId=22222222-2222-2222-2222-222222222222&email=bob@contoso.example");
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);

        var etag = tenant.Headers.ETag!.ToString();
        using var again = await GetAsync($"/api/entitlements?tenantId={Tenant}", ifNoneMatch: etag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
    }

    [Theory]
    [InlineData("/api/entitlements/not-a-guid", "subscriptionId")]
    [InlineData("/api/entitlements", "tenantId")]
    [InlineData("/api/entitlements?tenantId=contoso", "tenantId")]
    [InlineData("/api/entitlements?tenantId=11111111-1111-1111-1111-111111111111&userObjectId=42", "userObjectId")]
    [InlineData("/api/entitlements?tenantId=11111111-1111-1111-1111-111111111111&email=not-an-address", "email")]
    [InlineData("/api/entitlements?tenantId=11111111-1111-1111-1111-111111111111&email=a@b.example&userObjectId=11111111-1111-1111-1111-111111111111", "email")]
    public async Task Bad_input_is_a_400_naming_the_field(string path, string field)
    {
        using var response = await GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Unknown_subscriptions_and_tenants_are_404_problems()
    {
        using var subscription = await GetAsync($"/api/entitlements/{Guid.NewGuid()}");
        using var tenant = await GetAsync($"/api/entitlements?tenantId={Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, subscription.StatusCode);
        Assert.Equal("application/problem+json", subscription.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, tenant.StatusCode);
        Assert.Equal("application/problem+json", tenant.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Only_the_product_may_read_entitlements()
    {
        using var anonymous = await GetAsync($"/api/entitlements/{_active.Id}", apiKey: null);
        using var wrongKey = await GetAsync($"/api/entitlements/{_active.Id}", apiKey: "guessed-key");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
    }

    [Fact]
    public async Task The_openapi_description_covers_the_entitlement_endpoints_and_nothing_of_the_console()
    {
        using var response = await GetAsync($"/openapi/{EntitlementEndpoints.OpenApiDocument}.json", apiKey: null);
        var paths = (await JsonOf(response)).GetProperty("paths");

        Assert.True(paths.TryGetProperty("/api/entitlements/{subscriptionId}", out var one));
        Assert.True(one.GetProperty("get").GetProperty("responses").TryGetProperty("304", out _));
        Assert.True(paths.TryGetProperty("/api/entitlements", out _));
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.StartsWith("/finance", StringComparison.Ordinal));
    }
}
