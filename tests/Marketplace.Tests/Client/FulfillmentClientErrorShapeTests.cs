using System.Net;

namespace Marketplace.Tests.Client;

/// <summary>Error bodies are undocumented and come in several shapes (docs/marketplace.md#error-bodies); every one
/// must reach the caller intact.</summary>
public sealed class FulfillmentClientErrorShapeTests
{
    private static readonly Guid Correlation = Guid.NewGuid();

    /// <summary>A fresh answer per attempt: 5xx answers to a GET are retried.</summary>
    private static async Task<MarketplaceException> FailureFor(Func<HttpResponseMessage> response)
    {
        await using var harness = new StubClient(new StubHandler((_, _) => response()));
        return await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.GetSubscriptionAsync(Guid.NewGuid(), Correlation));
    }

    [Fact]
    public async Task The_OpenAPI_error_object_gives_code_and_message()
    {
        var failure = await FailureFor(() => StubHandler.Json(HttpStatusCode.NotFound, """{"error":{"code":"EntityNotFound","message":"Subscription not found"}}"""));

        Assert.Equal((HttpStatusCode.NotFound, "EntityNotFound", "Subscription not found", (string?)null),
            (failure.StatusCode, failure.ErrorCode, failure.ErrorMessage, failure.RawBody));
    }

    [Fact]
    public async Task The_flat_error_object_gives_code_and_message()
    {
        var failure = await FailureFor(() => StubHandler.Json(HttpStatusCode.BadRequest,
            """{"code":"BadArgument","message":"Quantity out of range","target":"quantity","details":[]}"""));

        Assert.Equal(("BadArgument", "Quantity out of range"), (failure.ErrorCode, failure.ErrorMessage));
    }

    [Fact]
    public async Task The_pascal_cased_api_version_error_gives_code_and_message()
    {
        var failure = await FailureFor(() => StubHandler.Json(HttpStatusCode.BadRequest,
            """{"Error":{"Code":"InvalidApiVersion","Message":"The api-version is not supported"}}"""));

        Assert.Equal(("InvalidApiVersion", "The api-version is not supported"), (failure.ErrorCode, failure.ErrorMessage));
    }

    [Fact]
    public async Task A_flat_error_without_message_takes_the_first_detail_message()
    {
        var failure = await FailureFor(() => StubHandler.Json(HttpStatusCode.BadRequest,
            """{"code":"BadArgument","details":[{"message":"planId is unknown","target":"planId","code":"InvalidPlan"}]}"""));

        Assert.Equal("planId is unknown", failure.ErrorMessage);
    }

    [Fact]
    public async Task An_empty_error_body_still_gives_status_and_reason()
    {
        var failure = await FailureFor(() => StubHandler.Empty(HttpStatusCode.Forbidden));

        Assert.Equal((HttpStatusCode.Forbidden, (string?)null, "Forbidden", (string?)null),
            (failure.StatusCode, failure.ErrorCode, failure.ErrorMessage, failure.RawBody));
    }

    [Fact]
    public async Task A_body_of_no_known_shape_is_kept_raw()
    {
        var failure = await FailureFor(() => new HttpResponseMessage(HttpStatusCode.BadGateway)
        {
            Content = new StringContent("<html>upstream went away</html>"),
        });

        Assert.Equal("<html>upstream went away</html>", failure.RawBody);
    }

    [Fact]
    public async Task Json_of_an_unknown_shape_is_kept_raw()
    {
        var failure = await FailureFor(() => StubHandler.Json(HttpStatusCode.BadRequest, """{"problem":"something"}"""));

        Assert.Equal("""{"problem":"something"}""", failure.RawBody);
    }

    [Fact]
    public async Task The_request_id_echoed_by_the_service_is_the_one_reported()
    {
        var failure = await FailureFor(() =>
        {
            var response = StubHandler.Empty(HttpStatusCode.NotFound);
            response.Headers.Add("x-ms-requestid", "service-request-7");
            return response;
        });

        Assert.Equal("service-request-7", failure.RequestId);
    }

    [Fact]
    public async Task Without_an_echo_our_own_request_id_is_reported()
    {
        await using var harness = new StubClient(new StubHandler((_, _) => StubHandler.Empty(HttpStatusCode.NotFound)));

        var failure = await Assert.ThrowsAsync<MarketplaceException>(() => harness.Client.GetSubscriptionAsync(Guid.NewGuid(), Correlation));

        Assert.Equal(harness.Stub.Seen.Single().Headers["x-ms-requestid"], failure.RequestId);
    }

    [Fact]
    public async Task A_pending_operation_refusal_of_either_kind_is_recognised()
    {
        var conflict = await FailureFor(() => StubHandler.Empty(HttpStatusCode.Conflict));
        var locked = await FailureFor(() => StubHandler.Json(HttpStatusCode.BadRequest,
            """{"code":"BadRequest","message":"Subscription is locked due to pending operations"}"""));

        Assert.True(conflict.IsPendingOperation && locked.IsPendingOperation);
    }
}
