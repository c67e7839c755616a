using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using Marketplace.Emulator;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Security;

/// <summary>A failing page shows the error page; every API error is a ProblemDetails body.</summary>
public sealed class ErrorHandlingTests
{
    [Fact]
    public async Task A_page_that_fails_shows_the_error_page_with_a_reference_not_an_empty_500()
    {
        await using var portal = new RealPortal(services: s =>
            s.AddSingleton<PlanCatalog>(_ => throw new InvalidOperationException("the plans could not be read")));
        using var client = portal.ClientFor("olivia@publisher.example", Roles.Operator);

        using var response = await client.GetAsync("/console/plans");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Something went wrong on our side", html);
        Assert.Matches("data-testid=\"error-reference\">[^<\\s]{8,}<", html);   // the request id the log lines carry
        Assert.DoesNotContain("the plans could not be read", html);   // nothing of the failure itself
    }

    [Fact]
    public async Task When_the_sign_in_TLS_handshake_fails_landing_shows_the_marketplace_is_not_answering_page()
    {
        // The emulator on loopback, as the operator ran it in place of Entra ID, with its certificate not trusted here:
        // the OpenID Connect metadata download fails its TLS handshake during the sign-in challenge.
        await using var emulator = await EmulatorHost.StartAsync(new EmulatorOptions());
        var settings = RealModeTestSettings.All();
        settings["AzureAd:Instance"] = emulator.IdentityInstance.ToString();
        await using var portal = new RealPortal(settings, signInByHeader: false);
        using var client = portal.ClientFor();

        using var response = await client.GetAsync("/landing?token=abc%2Bdef");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("The marketplace is not answering", html);
        Assert.Contains(MarketplaceProblems.Unavailable, html);
        Assert.Contains("href=\"/landing?token=abc%2Bdef\"", html);
    }

    [Fact]
    public async Task The_error_page_opened_directly_is_a_page_anyone_may_see()
    {
        await using var portal = new RealPortal();
        using var response = await portal.ClientFor().GetAsync("/error");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Something went wrong on our side", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("POST", "/api/webhook", HttpStatusCode.Unauthorized)]   // no bearer token
    [InlineData("POST", "/api/usage", HttpStatusCode.Unauthorized)]
    [InlineData("POST", "/api/usage/batch", HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/api/no-such-endpoint", HttpStatusCode.NotFound)]
    public async Task API_errors_are_ProblemDetails(string method, string path, HttpStatusCode expected)
    {
        await using var portal = new RealPortal();
        using var client = portal.ClientFor();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "POST" ? new StringContent("{}", Encoding.UTF8, "application/json") : null,
        });

        await AssertProblemAsync(response, expected);
    }

    [Fact]
    public async Task An_API_that_fails_answers_a_500_ProblemDetails_not_the_error_page()
    {
        await using var portal = new RealPortal(services: s =>
            s.AddSingleton<PublisherPortal.Webhooks.WebhookInbox>(_ => throw new InvalidOperationException("the inbox is gone")));
        using var client = portal.ClientFor();

        using var response = await client.PostAsync("/api/webhook", new StringContent("{}", Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("the inbox is gone", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_webhook_past_the_size_limit_is_a_413_ProblemDetails()
    {
        await using var portal = new RealPortal();
        using var client = portal.ClientFor();

        using var response = await client.PostAsync("/api/webhook", new StringContent(new string(' ', 300 * 1024), Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.True(expected == response.StatusCode && response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{(int)response.StatusCode} {response.Content.Headers.ContentType}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)expected, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("title", out _));
    }
}
