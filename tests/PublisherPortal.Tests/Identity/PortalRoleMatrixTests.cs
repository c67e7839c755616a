using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PublisherPortal.Identity;
using Xunit.Abstractions;

using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Identity;

/// <summary>
/// Every page and every endpoint of the portal, read from the running app (not from a list kept by hand), declares a
/// policy or an explicit AllowAnonymous, and each kind of person gets exactly what that policy promises over HTTP.
/// The app is the real Program (in real mode, pointed at nowhere); only the sign-in is swapped for one taken from request headers, because
/// the OpenID Connect dance is the browser tests' business.
/// </summary>
public sealed class PortalRoleMatrixTests(PortalRoleMatrixTests.PortalApp portal, ITestOutputHelper output)
    : IClassFixture<PortalRoleMatrixTests.PortalApp>
{
    /// <summary>The people of the matrix and the roles their id token carries (as the demo identities do).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> People = new Dictionary<string, string[]>
    {
        ["customer"] = [],
        ["finance"] = [Roles.Finance],
        ["operator"] = [Roles.Operator],
        ["admin"] = [Roles.Admin, Roles.Operator],
    };

    /// <summary>Who each policy lets in: the promise the matrix checks the app against.</summary>
    private static readonly IReadOnlyDictionary<string, string[]> AllowedBy = new Dictionary<string, string[]>
    {
        [Policies.Customer] = ["customer", "finance", "operator", "admin"],
        [Policies.Staff] = ["finance", "operator", "admin"],
        [Policies.Finance] = ["finance", "admin"],
        [Policies.Operator] = ["operator", "admin"],
        [Policies.Admin] = ["admin"],

        // Usage intake is for the publisher's product (an API key or app token), never for a signed-in person.
        [PublisherPortal.Metering.MeteringEndpoints.IntakePolicy] = [],
    };

    [Fact]
    public void Every_routed_page_declares_a_policy_or_allows_anonymous_on_purpose()
    {
        var pages = RoutedPages().ToList();

        Assert.NotEmpty(pages);
        Assert.All(pages, p => Assert.True(p.Policy is not null || p.Anonymous,
            $"{p.Type.Name} ({string.Join(", ", p.Routes)}) has neither [Authorize(Policy = ...)] nor [AllowAnonymous]"));
        Assert.All(pages.Where(p => p.Policy is not null), p => Assert.Contains(p.Policy!, AllowedBy.Keys));
    }

    [Fact]
    public void Every_endpoint_declares_a_policy_or_allows_anonymous_on_purpose()
    {
        var endpoints = AppEndpoints().ToList();
        foreach (var e in endpoints)
        {
            output.WriteLine($"{e.Method} {e.Route} -> {(e.Anonymous ? "anonymous" : e.Policy ?? "NONE")} ({e.Kind})");
        }

        Assert.Contains(endpoints, e => e.Kind == EndpointKind.Page);
        Assert.Contains(endpoints, e => e.Kind == EndpointKind.Api);
        Assert.All(endpoints, e => Assert.True(e.Policy is not null || e.Anonymous,
            $"{e.Method} {e.Route} declares neither a policy nor AllowAnonymous"));
        Assert.All(endpoints.Where(e => e.Policy is not null), e => Assert.Contains(e.Policy!, AllowedBy.Keys));
    }

    [Fact]
    public void Every_routed_page_is_served_by_the_app_with_the_same_policy()
    {
        var served = AppEndpoints().Where(e => e.Kind == EndpointKind.Page).ToLookup(e => e.Route);

        foreach (var page in RoutedPages())
        {
            foreach (var route in page.Routes)
            {
                var endpoint = Assert.Single(served[route]);
                Assert.Equal((page.Policy, page.Anonymous), (endpoint.Policy, endpoint.Anonymous));
            }
        }
    }

    public static TheoryData<string> Persons => new(People.Keys);

    [Theory]
    [MemberData(nameof(Persons))]
    public async Task Each_person_gets_what_the_policy_of_every_protected_page_and_endpoint_promises(string person)
    {
        using var client = portal.ClientFor(person);
        var protectedRoutes = AppEndpoints().Where(e => e.Policy is not null && !e.Anonymous).ToList();
        Assert.NotEmpty(protectedRoutes);

        var mismatches = new List<string>();
        foreach (var e in protectedRoutes)
        {
            using var response = await SendAsync(client, e);
            var allowed = AllowedBy[e.Policy!].Contains(person);
            var refused = response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized;
            output.WriteLine($"{person}: {e.Method} {e.Route} [{e.Policy}] -> {(int)response.StatusCode}");
            // A person refused by a person's policy gets 403; a machine-only policy (no person in it) does not take a
            // sign-in cookie as a credential at all, so 401 is its refusal.
            var machineOnly = AllowedBy[e.Policy!].Length == 0;
            if (allowed == refused || (!allowed && !machineOnly && response.StatusCode != HttpStatusCode.Forbidden))
            {
                mismatches.Add($"{e.Method} {e.Route} [{e.Policy}]: expected {(allowed ? "allowed" : "403")}, got {(int)response.StatusCode}");
            }
        }

        Assert.Empty(mismatches);
    }

    [Fact]
    public async Task Nobody_signed_in_is_sent_to_sign_in_by_every_protected_page_and_endpoint()
    {
        using var client = portal.ClientFor(person: null);

        foreach (var e in AppEndpoints().Where(e => e.Policy is not null && !e.Anonymous))
        {
            using var response = await SendAsync(client, e);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{e.Method} {e.Route} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task The_anonymous_home_page_opens_for_nobody_signed_in()
    {
        using var client = portal.ClientFor(person: null);

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// Only the status matters: authorization answers before anything renders. The body is not read, because a page
    /// that redirects while streaming (the landing page without a token) ends its response in a way TestServer reports
    /// as an error on read.
    /// </summary>
    private static Task<HttpResponseMessage> SendAsync(HttpClient client, AppEndpoint e) =>
        client.SendAsync(new HttpRequestMessage(new HttpMethod(e.Method), Concrete(e.Route)), HttpCompletionOption.ResponseHeadersRead);

    private sealed record RoutedPage(Type Type, IReadOnlyList<string> Routes, string? Policy, bool Anonymous);

    private static IEnumerable<RoutedPage> RoutedPages() =>
        typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IComponent).IsAssignableFrom(t) && t.GetCustomAttributes<RouteAttribute>().Any())
            .Select(t => new RoutedPage(
                t,
                t.GetCustomAttributes<RouteAttribute>().Select(r => r.Template).ToList(),
                t.GetCustomAttributes<AuthorizeAttribute>().Select(a => a.Policy).FirstOrDefault(p => p is not null),
                t.GetCustomAttribute<AllowAnonymousAttribute>() is not null));

    private enum EndpointKind { Page, Api }

    private sealed record AppEndpoint(string Method, string Route, EndpointKind Kind, string? Policy, bool Anonymous);

    /// <summary>
    /// What the running app routes, from its EndpointDataSource. Left out: the framework's own plumbing (the Blazor hub
    /// and scripts, which carry no user data and authorise the circuit through the page that opened it) and static files.
    /// </summary>
    private IEnumerable<AppEndpoint> AppEndpoints() =>
        portal.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !IsFramework(e, raw))
            .Select(e => new AppEndpoint(
                e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.FirstOrDefault() ?? "GET",
                "/" + e.RoutePattern.RawText!.TrimStart('/'),
                e.Metadata.GetMetadata<ComponentTypeMetadata>() is not null ? EndpointKind.Page : EndpointKind.Api,
                e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p is not null),
                e.Metadata.GetMetadata<IAllowAnonymous>() is not null))
            .DistinctBy(e => (e.Method, e.Route));

    private static bool IsFramework(RouteEndpoint endpoint, string raw) =>
        raw.StartsWith("_blazor", StringComparison.Ordinal) || raw.StartsWith("/_blazor", StringComparison.Ordinal)
        || raw.StartsWith("_framework", StringComparison.Ordinal) || raw.StartsWith("/_framework", StringComparison.Ordinal)
        || raw.Contains(":file}", StringComparison.Ordinal) // static files' development fallback (MapStaticAssets)
        || endpoint.Metadata.Any(m => m.GetType().FullName == "Microsoft.AspNetCore.StaticAssets.StaticAssetDescriptor");

    /// <summary>A route template with its parameters filled in: a fresh GUID for ids (the page then says "not found").</summary>
    private static string Concrete(string route) =>
        System.Text.RegularExpressions.Regex.Replace(route, @"\{[^}]+\}", Guid.NewGuid().ToString("D"));

    /// <summary>The real Program on a temporary content root, with a header sign-in.</summary>
    public sealed class PortalApp : WebApplicationFactory<Program>
    {
        private readonly string _contentRoot = Path.Combine(Path.GetTempPath(), "portal-role-matrix", Guid.NewGuid().ToString("N"));

        public HttpClient ClientFor(string? person)
        {
            var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
            if (person is not null)
            {
                client.DefaultRequestHeaders.Add("X-Test-User", person + "@matrix.example");
                client.DefaultRequestHeaders.Add("X-Test-Roles", string.Join(',', People[person]));
            }

            return client;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            Directory.CreateDirectory(_contentRoot);
            builder.UseContentRoot(_contentRoot);
            builder.UseEnvironment("Development");
            // Real mode: demo mode starts the emulator's own WebApplication first, and the factory would capture that host
            // instead of the portal's. Nothing here reaches these (unresolvable) addresses: the matrix only asks who may enter.
            var tenant = Guid.NewGuid().ToString("D");
            var client = Guid.NewGuid().ToString("D");
            foreach (var (key, value) in new Dictionary<string, string>
            {
                ["Portal:Mode"] = "Real",
                ["AzureAd:Instance"] = "https://login.invalid/",
                ["AzureAd:TenantId"] = "organizations",
                ["AzureAd:ClientId"] = client,
                ["AzureAd:ClientSecret"] = "matrix-test",
                ["Marketplace:BaseUri"] = "https://marketplace.invalid/api/",
                ["Marketplace:Instance"] = "https://login.invalid/",
                ["Marketplace:TenantId"] = tenant,
                ["Marketplace:ClientId"] = client,
                ["Marketplace:ClientSecret"] = "matrix-test",
                ["Marketplace:MarketplaceAppId"] = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7",
                ["Webhooks:Instance"] = "https://login.invalid/",
                ["Webhooks:PublisherTenantId"] = tenant,
                ["Webhooks:AudienceClientId"] = client,
                ["Webhooks:MarketplaceAppId"] = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7",
                ["Metering:AllowedClientAppIds:0"] = "7e5a0000-0000-4000-8000-00000000abcd",   // real mode requires the apps allowed to report usage
                ["DataProtection:CertificatePath"] = PublisherPortal.Tests.Support.RealModeTestSettings.CertificatePath,   // and keys encrypted at rest
            })
            {
                builder.UseSetting(key, value);
            }
            builder.ConfigureLogging(l => l.ClearProviders());
            builder.ConfigureTestServices(services =>
            {
                HeaderSignIn.Replace(services);
            });
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_contentRoot, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS temp cleaner.
            }
        }
    }
}
