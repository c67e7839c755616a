using System.Net;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Security;

/// <summary>Headers on every answer; HSTS and Secure cookies in real mode, over https also when a trusted proxy terminates it.</summary>
public sealed class SecurityHeadersTests
{
    [Theory]
    [InlineData("GET", "/")]
    [InlineData("GET", "/healthz")]
    [InlineData("POST", "/api/webhook")]
    [InlineData("GET", "/no-such-page")]
    public async Task Every_answer_carries_the_content_security_policy_and_the_other_headers(string method, string path)
    {
        await using var portal = new RealPortal();
        using var client = portal.ClientFor();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? new StringContent("{}") : null });

        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("connect-src 'self' ws://localhost", csp);   // the circuit's WebSocket
        Assert.Contains("object-src 'none'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("same-origin", Header(response, "Referrer-Policy"));
        Assert.Contains("camera=()", Header(response, "Permissions-Policy"));
    }

    [Fact]
    public async Task Behind_a_configured_proxy_that_terminated_https_real_mode_sends_HSTS_and_Secure_cookies()
    {
        var settings = RealModeTestSettings.All();
        settings["ForwardedHeaders:KnownNetworks:0"] = "10.9.0.0/16";
        await using var portal = new RealPortal(settings, remoteAddress: IPAddress.Parse("10.9.0.5"));
        using var client = portal.ClientFor();

        using var response = await client.SendAsync(ThroughProxy("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("max-age=31536000", Header(response, "Strict-Transport-Security"));
        Assert.Contains("connect-src 'self' wss://portal.publisher.example", Header(response, "Content-Security-Policy"));
        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.NotEmpty(cookies);
        Assert.All(cookies, c => Assert.Contains("secure", c, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_client_that_is_not_a_configured_proxy_cannot_claim_https()
    {
        var settings = RealModeTestSettings.All();
        settings["ForwardedHeaders:KnownProxies:0"] = "10.9.0.4";
        await using var portal = new RealPortal(settings, remoteAddress: IPAddress.Parse("203.0.113.7"));
        using var client = portal.ClientFor();

        using var response = await client.SendAsync(ThroughProxy("/"));

        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
        Assert.Contains("connect-src 'self' ws://portal.publisher.example", Header(response, "Content-Security-Policy"));
    }

    [Fact]
    public async Task A_bad_proxy_setting_stops_start_up_naming_it()
    {
        var settings = RealModeTestSettings.All();
        settings["ForwardedHeaders:KnownNetworks:0"] = "10.9.0.0";
        await using var portal = new RealPortal(settings);

        var failure = Record.Exception(() => portal.ClientFor());

        Assert.NotNull(failure);
        Assert.Contains("ForwardedHeaders:KnownNetworks", failure.ToString());
    }

    private static HttpRequestMessage ThroughProxy(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "portal.publisher.example";
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "198.51.100.20");
        return request;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(",", content)
        : throw new Xunit.Sdk.XunitException($"{name} missing on {(int)response.StatusCode} {response.RequestMessage?.RequestUri}");
}
