using System.Net;
using System.Text.RegularExpressions;
using System.Web;

namespace PublisherPortal.BrowserTests.Identity;

/// <summary>
/// Sign-in and sign-out take a returnUrl and end, after the identity provider's round trip, wherever it says — so it
/// is followed only when local. Driven over real HTTP through the whole OpenID Connect round trip against the demo
/// portal and its emulator (no browser: each step is the request a browser would make, redirects read as sent).
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class ReturnUrlTests(PortalFixture portal)
{
    /// <summary>Raw query values, exactly as a crafted link carries them (percent-encoded once).</summary>
    public static TheoryData<string> CraftedReturnUrls =>
    [
        "/%09/evil.example/",               // a browser drops the tab and reads //evil.example/
        "/%0D%0ALocation:%20https://evil.example/",
        "/%0A/evil.example/",
        "//evil.example/",
        "/%2F/evil.example/",
        "/%5C/evil.example/",
        "/%5C%5Cevil.example/",
        "https://evil.example/",
        "%2F%2Fevil.example",
        "/%E3%80%80/evil.example/",         // ideographic space
        "/%E2%80%A8/evil.example/",         // line separator
        "/%C2%85/evil.example/",            // next line (C1 control)
        "/%00/evil.example/",
        "/%20/evil.example/",
        "/caf%C3%A9",                       // not a Location header can carry
        "~/%09/evil.example/",
    ];

    [Theory]
    [MemberData(nameof(CraftedReturnUrls))]
    public async Task A_crafted_return_url_after_sign_in_lands_on_the_portals_home(string rawReturnUrl)
    {
        using var browser = new FakeBrowser();

        var landing = await SignInAsync(browser, rawReturnUrl);

        Assert.Equal("/", landing);
    }

    [Theory]
    [MemberData(nameof(CraftedReturnUrls))]
    public async Task A_crafted_return_url_after_sign_out_lands_on_the_portals_home(string rawReturnUrl)
    {
        using var browser = new FakeBrowser();

        var landing = await SignOutAsync(browser, rawReturnUrl);

        Assert.Equal("/", landing);
    }

    [Fact]
    public async Task A_local_return_url_with_its_query_survives_both_round_trips()
    {
        const string landingLink = "/landing?token=abc%2Bdef%3D%3D";
        using var browser = new FakeBrowser();

        Assert.Equal(landingLink, await SignInAsync(browser, Uri.EscapeDataString(landingLink)));
        Assert.Equal(landingLink, await SignOutAsync(browser, Uri.EscapeDataString(landingLink)));
    }

    [Fact]
    public async Task A_signed_out_callback_with_a_forged_state_stays_on_the_portal()
    {
        using var browser = new FakeBrowser();

        using var response = await browser.Http.GetAsync(new Uri(portal.BaseUrl,
            "signout-callback-oidc?state=" + Uri.EscapeDataString("https://evil.example/")));

        // The state is protected by Data Protection: one the portal did not write is ignored, never followed.
        Assert.True((int)response.StatusCode < 500, $"answered {(int)response.StatusCode}");
        Assert.Equal(portal.BaseUrl.Authority, new Uri(portal.BaseUrl, RawLocation(response)).Authority);
    }

    /// <summary>/account/signin → emulator sign-in page → alice chosen → form_post to /signin-oidc; returns where the portal sends the browser last.</summary>
    private async Task<string> SignInAsync(FakeBrowser browser, string rawReturnUrl)
    {
        using var challenge = await browser.Http.GetAsync(new Uri(portal.BaseUrl, "account/signin?returnUrl=" + rawReturnUrl));
        Assert.True(challenge.StatusCode == HttpStatusCode.Redirect, $"/account/signin answered {(int)challenge.StatusCode}");
        var authorize = new Uri(RawLocation(challenge));
        Assert.Equal(portal.EmulatorHttpBase.Authority, authorize.Authority);

        var query = HttpUtility.ParseQueryString(authorize.Query);
        var fields = query.AllKeys.Where(k => k is not null).Select(k => new KeyValuePair<string, string>(k!, query[k]!)).ToList();
        fields.Add(new("identity", "alice"));
        using var signedIn = await browser.Http.PostAsync(authorize, new FormUrlEncodedContent(fields));
        var autoPost = await signedIn.Content.ReadAsStringAsync();
        Assert.True(signedIn.StatusCode == HttpStatusCode.OK, autoPost);

        var action = WebUtility.HtmlDecode(FormAction().Match(autoPost).Groups[1].Value);
        var posted = HiddenInput().Matches(autoPost)
            .Select(m => new KeyValuePair<string, string>(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)));
        using var callback = await browser.Http.PostAsync(new Uri(action), new FormUrlEncodedContent(posted));
        Assert.True(callback.StatusCode == HttpStatusCode.Redirect, $"/signin-oidc answered {(int)callback.StatusCode}");
        return RawLocation(callback);
    }

    /// <summary>/account/signout → emulator end-session → /signout-callback-oidc; returns where the portal sends the browser last.</summary>
    private async Task<string> SignOutAsync(FakeBrowser browser, string rawReturnUrl)
    {
        using var signOut = await browser.Http.GetAsync(new Uri(portal.BaseUrl, "account/signout?returnUrl=" + rawReturnUrl));
        Assert.True(signOut.StatusCode == HttpStatusCode.Redirect, $"/account/signout answered {(int)signOut.StatusCode}");
        var endSession = new Uri(RawLocation(signOut));
        Assert.Equal(portal.EmulatorHttpBase.Authority, endSession.Authority);

        using var ended = await browser.Http.GetAsync(endSession);
        Assert.True(ended.StatusCode == HttpStatusCode.Redirect, $"the emulator's end-session answered {(int)ended.StatusCode}");
        var callback = new Uri(RawLocation(ended));
        Assert.Equal(portal.BaseUrl.Authority, callback.Authority);

        using var back = await browser.Http.GetAsync(callback);
        Assert.True(back.StatusCode == HttpStatusCode.Redirect, $"/signout-callback-oidc answered {(int)back.StatusCode}");
        return RawLocation(back);
    }

    /// <summary>The Location header as sent, before HttpClient makes a Uri of it (a crafted one may not parse).</summary>
    private static string RawLocation(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("Location", out var values) ? values.ToString() : "";

    /// <summary>
    /// Cookies kept per host and port, redirects shown rather than followed: each hop is checked by the test. Kept by
    /// hand because the correlation and nonce cookies are Secure, which a browser sends to http://127.0.0.1 (a secure
    /// context) but CookieContainer does not.
    /// </summary>
    private sealed class FakeBrowser : IDisposable
    {
        public FakeBrowser() => Http = new HttpClient(new CookieJar(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }));

        public HttpClient Http { get; }

        public void Dispose() => Http.Dispose();
    }

    private sealed class CookieJar(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly Dictionary<string, Dictionary<string, string>> _byAuthority = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var authority = request.RequestUri!.Authority;
            if (_byAuthority.TryGetValue(authority, out var jar) && jar.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var set))
            {
                jar = _byAuthority.TryGetValue(authority, out var existing) ? existing : _byAuthority[authority] = [];
                foreach (var pair in set.Select(c => c.Split(';')[0]))
                {
                    var (name, value) = (pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..]);
                    if (value.Length == 0 || set.Any(c => c.StartsWith(name + "=;", StringComparison.Ordinal) && c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase)))
                    {
                        jar.Remove(name);
                    }
                    else
                    {
                        jar[name] = value;
                    }
                }
            }

            return response;
        }
    }

    [GeneratedRegex("""<form method="post" action="([^"]*)">""")]
    private static partial Regex FormAction();

    [GeneratedRegex("""<input type="hidden" name="([^"]*)" value="([^"]*)">""")]
    private static partial Regex HiddenInput();
}
