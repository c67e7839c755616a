using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dapper;
using Marketplace.Models;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Metering;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Metering;

/// <summary>
/// POST /api/usage and GET /finance/usage.csv over real loopback HTTP: the metering registration (AddMetering,
/// MapMeteringEndpoints) in demo mode on Kestrel, a real SQLite file, the plan catalogue in the plans table.
/// </summary>
public sealed class UsageIntakeHttpTests : IAsyncLifetime
{
    private const string ApiKey = "test-product-key-0123456789";
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);

    private TestDatabase _db = null!;
    private IntakeHost _host = null!;
    private readonly Guid _business = Guid.NewGuid();
    private readonly Guid _team = Guid.NewGuid();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await MeteringHarness.SeedPlansAsync(_db);
        await using (var connection = await _db.Database.OpenAsync())
        await using (var tx = await _db.Database.BeginWriteAsync(connection))
        {
            var store = new SubscriptionStore(_db.Database, _db.Time);
            await store.RecordFromMarketplaceAsync(Samples.Subscription(_business, SubscriptionStatus.Subscribed, planId: "business"), connection, tx);
            await store.RecordFromMarketplaceAsync(Samples.Subscription(_team, SubscriptionStatus.Subscribed, planId: "team"), connection, tx);
            await tx.CommitAsync();
        }

        _host = await IntakeHost.StartAsync(_db, new Dictionary<string, string?>
        {
            ["Portal:Mode"] = "Demo",
            ["Metering:ApiKeys:test-product"] = ApiKey,
        }, builder =>
        {
            builder.Services.AddAuthentication(TestRoles.Name).AddScheme<AuthenticationSchemeOptions, TestRoles>(TestRoles.Name, null);
            builder.Services.AddAuthorizationBuilder().AddPolicy(Policies.Finance, p => p.RequireRole(Roles.Finance, Roles.Admin));
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(object body, string? apiKey = ApiKey, Action<HttpRequestMessage>? configure = null, string path = "/api/usage")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        configure?.Invoke(request);
        return _host.Http.SendAsync(request);
    }

    private object Report(decimal quantity = 3, string? key = "k-1", string dimension = "reports-generated", DateTimeOffset? at = null, Guid? subscription = null) => new
    {
        subscriptionId = subscription ?? _business,
        dimension,
        quantity,
        occurredAt = (at ?? Now.AddMinutes(-10)).ToString("O"),
        idempotencyKey = key,
    };

    private async Task<long> RecordCountAsync()
    {
        await using var connection = await _db.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM usage_records");
    }

    private static async Task<Dictionary<string, string[]>> ErrorsOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }

    [Fact]
    public async Task A_valid_report_is_recorded_before_200_with_a_receipt()
    {
        using var response = await PostAsync(Report(quantity: 2.25m));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var receipt = (await response.Content.ReadFromJsonAsync<UsageReceipt>())!;
        Assert.Equal((_business, "reports-generated", 2.25m, new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero)),
            (receipt.SubscriptionId, receipt.Dimension, receipt.Quantity, receipt.Hour));
        Assert.Equal(1, await RecordCountAsync());
    }

    [Fact]
    public async Task The_same_idempotency_key_gets_the_same_answer_and_changes_nothing()
    {
        using var first = await PostAsync(Report(key: "same"));
        using var second = await PostAsync(Report(key: "same"));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await RecordCountAsync());
    }

    [Fact]
    public async Task A_key_reused_for_other_usage_is_a_conflict_and_changes_nothing()
    {
        using var first = await PostAsync(Report(key: "reused", quantity: 3));
        using var second = await PostAsync(Report(key: "reused", quantity: 30));

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal(1, await RecordCountAsync());
        await using var connection = await _db.Database.OpenAsync();
        Assert.Equal(3_000_000, await connection.ExecuteScalarAsync<long>("SELECT quantity_micros FROM usage_records"));
    }

    [Fact]
    public async Task The_idempotency_key_may_come_in_a_header()
    {
        using var response = await PostAsync(Report(key: null), configure: r => r.Headers.Add("Idempotency-Key", "from-header"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-0123456789abcdef")]
    public async Task A_missing_or_wrong_api_key_is_401_and_nothing_is_recorded(string? key)
    {
        using var response = await PostAsync(Report(), apiKey: key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await RecordCountAsync());
    }

    [Fact]
    public async Task An_empty_report_names_every_missing_field()
    {
        using var response = await PostAsync("{}");

        var errors = await ErrorsOf(response);
        Assert.Equal(["dimension", "idempotencyKey", "occurredAt", "quantity", "subscriptionId"], errors.Keys.Order());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("0.0000001")]
    [InlineData("2000000000")]
    public async Task A_quantity_the_marketplace_cannot_bill_is_refused(string quantity)
    {
        using var response = await PostAsync(Report(quantity: decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Contains("quantity", (await ErrorsOf(response)).Keys);
    }

    [Fact]
    public async Task A_dimension_not_on_the_plan_is_refused_naming_the_known_ones()
    {
        using var response = await PostAsync(Report(dimension: "emails-sent"));

        Assert.Contains("reports-generated", (await ErrorsOf(response))["dimension"].Single());
    }

    [Fact]
    public async Task Usage_for_a_plan_without_dimensions_is_refused()
    {
        using var response = await PostAsync(Report(subscription: _team));

        Assert.Contains("no metering dimensions", (await ErrorsOf(response))["dimension"].Single());
    }

    [Fact]
    public async Task Usage_for_an_unknown_subscription_is_refused()
    {
        using var response = await PostAsync(Report(subscription: Guid.NewGuid()));

        Assert.Contains("subscriptionId", (await ErrorsOf(response)).Keys);
    }

    [Theory]
    [InlineData(-24)]
    [InlineData(1)]
    public async Task Usage_too_old_to_bill_or_in_the_future_is_refused(int hours)
    {
        using var response = await PostAsync(Report(at: Now.AddHours(hours)));

        Assert.Contains("occurredAt", (await ErrorsOf(response)).Keys);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_clear_400()
    {
        using var response = await PostAsync("""{"quantity": "many" }""");

        Assert.Contains("quantity", (await ErrorsOf(response)).Keys);
    }

    private Task<HttpResponseMessage> PostBatchAsync(object body, string? apiKey = ApiKey) => PostAsync(body, apiKey, path: "/api/usage/batch");

    private static async Task<UsageBatchAnswer> BatchAnswerOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<UsageBatchAnswer>())!;
    }

    [Fact]
    public async Task A_batch_records_each_valid_report_and_refuses_each_bad_one_on_its_own_line()
    {
        using var response = await PostBatchAsync(new
        {
            reports = new[]
            {
                Report(key: "b-1", quantity: 1.5m),
                Report(key: "b-2", quantity: 0),
                Report(key: "b-3", dimension: "emails-sent"),
                Report(key: "b-4", subscription: Guid.NewGuid()),
                Report(key: "b-5", quantity: 2, at: Now.AddHours(-3)),
            },
        });

        var answer = await BatchAnswerOf(response);
        Assert.Equal((5, 2, 0, 3), (answer.Count, answer.Recorded, answer.AlreadyRecorded, answer.Refused));
        Assert.Equal(["Recorded", "Invalid", "Invalid", "Invalid", "Recorded"], answer.Results.Select(r => r.Status));
        Assert.Equal([0, 1, 2, 3, 4], answer.Results.Select(r => r.Index));
        Assert.Contains("quantity", answer.Results[1].Errors!.Keys);
        Assert.Contains("reports-generated", answer.Results[2].Errors!["dimension"].Single());
        Assert.Contains("subscriptionId", answer.Results[3].Errors!.Keys);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 6, 0, 0, TimeSpan.Zero), answer.Results[4].Receipt!.Hour);
        Assert.Equal(2, await RecordCountAsync());
    }

    [Fact]
    public async Task A_batch_sent_again_changes_nothing_and_answers_with_the_first_receipts()
    {
        var batch = new { reports = Enumerable.Range(0, 30).Select(i => Report(key: $"again-{i}", quantity: 1 + i)).ToArray() };

        var first = await BatchAnswerOf(await PostBatchAsync(batch));
        var second = await BatchAnswerOf(await PostBatchAsync(batch));

        Assert.Equal((30, 0), (first.Recorded, first.AlreadyRecorded));
        Assert.Equal((0, 30), (second.Recorded, second.AlreadyRecorded));
        Assert.Equal(first.Results.Select(r => r.Receipt!.RecordId), second.Results.Select(r => r.Receipt!.RecordId));
        Assert.Equal(30, await RecordCountAsync());
    }

    [Fact]
    public async Task A_key_repeated_inside_one_batch_is_recorded_once()
    {
        var answer = await BatchAnswerOf(await PostBatchAsync(new
        {
            reports = new[] { Report(key: "twice", quantity: 4), Report(key: "twice", quantity: 4), Report(key: "twice", quantity: 40) },
        }));

        Assert.Equal(["Recorded", "AlreadyRecorded", "KeyReused"], answer.Results.Select(r => r.Status));
        Assert.Equal(answer.Results[0].Receipt!.RecordId, answer.Results[2].Receipt!.RecordId);
        Assert.Contains("other content", answer.Results[2].Errors!["idempotencyKey"].Single());
        Assert.Equal(1, await RecordCountAsync());
        await using var connection = await _db.Database.OpenAsync();
        Assert.Equal(4_000_000, await connection.ExecuteScalarAsync<long>("SELECT quantity_micros FROM usage_records"));
    }

    [Fact]
    public async Task A_key_with_a_control_character_is_refused_on_its_own_line_and_its_neighbours_are_recorded()
    {
        var answer = await BatchAnswerOf(await PostBatchAsync(new
        {
            reports = new[] { Report(key: "fine-1"), Report(key: "nul\u0000key"), Report(key: "fine-2") },
        }));

        Assert.Equal(["Recorded", "Invalid", "Recorded"], answer.Results.Select(r => r.Status));
        Assert.Contains("Control characters", answer.Results[1].Errors!["idempotencyKey"].Single());
        Assert.Equal(2, await RecordCountAsync());
    }

    /// <summary>
    /// Two instances can receive batches that share keys (a product retrying through another instance). Sent in opposite
    /// orders at once, they once could deadlock on PostgreSQL, each insert waiting for the other's transaction.
    /// </summary>
    [Fact]
    public async Task Batches_sharing_keys_in_opposite_orders_at_once_are_both_answered_and_record_each_key_once()
    {
        var reports = Enumerable.Range(0, 200).Select(i => Report(key: $"shared-{i:D3}", quantity: 1 + i)).ToArray();

        var responses = await Task.WhenAll(
            PostBatchAsync(new { reports }),
            PostBatchAsync(new { reports = reports.Reverse().ToArray() }),
            PostBatchAsync(new { reports = reports.Skip(100).Concat(reports.Take(100)).ToArray() }));

        foreach (var response in responses)
        {
            var answer = await BatchAnswerOf(response);
            Assert.Equal(200, answer.Recorded + answer.AlreadyRecorded);
        }

        Assert.Equal(200, await RecordCountAsync());
    }

    [Fact]
    public async Task A_batch_that_is_empty_too_large_or_not_json_is_a_clear_400_and_records_nothing()
    {
        var tooMany = new { reports = Enumerable.Range(0, UsageIntake.MaxBatchSize + 1).Select(i => Report(key: $"many-{i}")).ToArray() };

        Assert.Contains("reports", (await ErrorsOf(await PostBatchAsync(new { reports = Array.Empty<object>() }))).Keys);
        Assert.Contains("this one has 501", (await ErrorsOf(await PostBatchAsync(tooMany)))["reports"].Single());
        Assert.Contains("reports", (await ErrorsOf(await PostBatchAsync("""{"reports": 7}"""))).Keys);
        Assert.Equal(0, await RecordCountAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_batch_body_past_the_size_limit_is_413_and_records_nothing(bool withLength)
    {
        // Valid reports, padded with whitespace: only the size is wrong.
        var reports = Enumerable.Range(0, 400).Select(i => Report(key: $"big-{i}")).ToArray();
        var json = JsonSerializer.Serialize(new { reports }).Replace(",", "," + new string(' ', 600), StringComparison.Ordinal);
        Assert.True(json.Length > 1024 * 1024, $"the body is only {json.Length} bytes");
        HttpContent content = withLength
            ? new StringContent(json, Encoding.UTF8, "application/json")
            : new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/usage/batch") { Content = content };
        request.Headers.Add("X-Api-Key", ApiKey);
        if (!withLength)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        using var response = await _host.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("too large", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await RecordCountAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_single_report_past_the_batch_size_limit_is_413_and_records_nothing(bool withLength)
    {
        // One valid report padded with whitespace past 1 MiB: before the limit it was read (up to Kestrel's 30 MB) and recorded.
        var json = JsonSerializer.Serialize(Report(key: "padded")).Replace(",", "," + new string(' ', 300_000), StringComparison.Ordinal);
        Assert.True(json.Length > 1024 * 1024, $"the body is only {json.Length} bytes");
        HttpContent content = withLength
            ? new StringContent(json, Encoding.UTF8, "application/json")
            : new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/usage") { Content = content };
        request.Headers.Add("X-Api-Key", ApiKey);
        if (!withLength)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        using var response = await _host.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await RecordCountAsync());
    }

    [Fact]
    public async Task A_batch_without_the_api_key_is_401_and_records_nothing()
    {
        using var response = await PostBatchAsync(new { reports = new[] { Report(key: "no-key") } }, apiKey: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await RecordCountAsync());
    }

    [Fact]
    public async Task Finance_exports_billed_usage_as_csv_and_others_may_not()
    {
        await using (var connection = await _db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO usage_hours (subscription_id, dimension, hour_start, quantity_micros, record_count, state, result_status,
                                         plan_id, usage_event_id, billed_quantity_micros, submitted_at, answered_at, created_at, updated_at)
                VALUES (@id, 'reports-generated', @hour, 7500000, 2, @state, @state, 'business', 'evt-1', 7500000, @at, @at, @at, @at)
                """, new[]
            {
                new { id = _business, hour = Now.AddHours(-3), state = "Accepted", at = Now.AddHours(-2) },
                new { id = _business, hour = Now.AddHours(-2), state = "Failed", at = Now.AddHours(-1) },
            });
        }

        using var finance = await _host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/finance/usage.csv") { Headers = { { "X-Test-Role", "Finance" } } });
        using var customer = await _host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/finance/usage.csv") { Headers = { { "X-Test-Role", "Customer" } } });

        Assert.Equal(HttpStatusCode.OK, finance.StatusCode);
        Assert.Equal("text/csv", finance.Content.Headers.ContentType?.MediaType);
        var lines = (await finance.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("SubscriptionId,OfferId,PlanId,Dimension,Hour,BilledQuantity", lines[0]);
        Assert.Contains($"{_business},insights-saas,business,reports-generated,2026-11-01T06:00:00Z,7.5,", lines[1]);
        Assert.Equal(HttpStatusCode.Forbidden, customer.StatusCode);
    }

    /// <summary>Signs the request in with the role named in X-Test-Role; stands in for the portal's OpenID Connect cookie.</summary>
    private sealed class TestRoles(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "TestRoles";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers["X-Test-Role"].FirstOrDefault() is not { Length: > 0 } role)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, role), new Claim(ClaimTypes.Role, role)], Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name)));
        }
    }
}
