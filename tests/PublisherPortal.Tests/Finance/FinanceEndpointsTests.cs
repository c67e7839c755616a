using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Identity;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Finance;

/// <summary>The export endpoints over real HTTP on loopback, with the portal's own policies and a test sign-in.</summary>
public sealed class FinanceEndpointsTests
{
    [Fact]
    public async Task Finance_downloads_the_filtered_history_as_csv_and_the_export_is_audited()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var s = await data.ResolveAsync();
        await data.ResolveAsync(offerId: "backup-saas");
        await using var host = await FinanceHost.StartAsync(db);

        using var response = await host.Client("finn@publisher.example", Roles.Finance).GetAsync("/finance/export.csv?offer=insights-saas");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("subscription-history-", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var (_, rows) = FinanceCsvExportTests.Parse(new StringReader(await response.Content.ReadAsStringAsync()));
        Assert.Equal(s.Id.ToString("D"), Assert.Single(rows)["subscription_id"]);
        var audit = Assert.Single(await AuditAsync(db));
        Assert.Equal(("finn@publisher.example", "FinanceHistoryExport", "Completed"), (audit.Actor, audit.Action, audit.Outcome));
        Assert.Equal("filters: offer=insights-saas; rows: 1", audit.Detail);
    }

    [Fact]
    public async Task Finance_downloads_the_point_in_time_view_as_csv_and_the_export_is_audited()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new FinanceData(db).ResolveAsync();
        await using var host = await FinanceHost.StartAsync(db);

        using var response = await host.Client("finn@publisher.example", Roles.Finance).GetAsync("/finance/point-in-time.csv?asof=2026-11-01");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (_, rows) = FinanceCsvExportTests.Parse(new StringReader(await response.Content.ReadAsStringAsync()));
        Assert.Single(rows);
        var audit = Assert.Single(await AuditAsync(db));
        Assert.Equal(("FinancePointInTimeExport", "Completed"), (audit.Action, audit.Outcome));
        Assert.Contains("rows: 1", audit.Detail);
    }

    [Theory]
    [InlineData(Roles.Operator)]
    [InlineData("")]
    public async Task Someone_without_the_finance_role_is_refused_and_nothing_is_exported(string role)
    {
        await using var db = await TestDatabase.CreateAsync();
        await new FinanceData(db).ResolveAsync();
        await using var host = await FinanceHost.StartAsync(db);

        using var response = await host.Client("olivia@publisher.example", role).GetAsync("/finance/export.csv");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await AuditAsync(db));
    }

    [Fact]
    public async Task Nobody_signed_in_is_refused()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var host = await FinanceHost.StartAsync(db);

        using var response = await host.Client(email: null).GetAsync("/finance/point-in-time.csv");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/finance/export.csv")]
    [InlineData("PUT", "/finance/export.csv")]
    [InlineData("PATCH", "/finance/point-in-time.csv")]
    [InlineData("DELETE", "/finance/point-in-time.csv")]
    public async Task Finance_endpoints_refuse_anything_but_reading(string method, string path)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var host = await FinanceHost.StartAsync(db);

        using var response = await host.Client("finn@publisher.example", Roles.Finance).SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Empty(await AuditAsync(db));
    }

    private static async Task<List<AuditEntry>> AuditAsync(TestDatabase db)
    {
        await using var connection = await db.Database.OpenAsync();
        return (await connection.QueryAsync<AuditEntry>(
            "SELECT id, at, actor, action, subscription_id, detail, outcome FROM audit_log ORDER BY id")).AsList();
    }

    /// <summary>
    /// The finance endpoints as Program.cs maps them, the portal's real policies, and a sign-in taken from request headers
    /// (the OpenID Connect dance is the browser tests' business).
    /// </summary>
    internal sealed class FinanceHost : IAsyncDisposable
    {
        private const string Scheme = "Test";
        private readonly WebApplication _app;
        private readonly Uri _baseUri;

        private FinanceHost(WebApplication app, Uri baseUri)
        {
            _app = app;
            _baseUri = baseUri;
        }

        public static async Task<FinanceHost> StartAsync(TestDatabase db)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Configuration["AzureAd:Instance"] = "https://login.invalid/";
            builder.Configuration["AzureAd:TenantId"] = "organizations";
            builder.Configuration["AzureAd:ClientId"] = Guid.NewGuid().ToString();
            builder.Services.AddSingleton(db.Database);
            builder.Services.AddSingleton<TimeProvider>(db.Time);
            builder.Services.AddSingleton<AuditLog>();
            builder.AddPortalIdentity();
            builder.Services.AddAuthentication(o =>
                {
                    o.DefaultScheme = Scheme;
                    o.DefaultAuthenticateScheme = Scheme;
                    o.DefaultChallengeScheme = Scheme;
                    o.DefaultForbidScheme = Scheme;
                })
                .AddScheme<AuthenticationSchemeOptions, HeaderSignIn>(Scheme, _ => { });
            builder.AddFinance();
            PublisherPortal.Revenue.RevenueExtensions.AddRevenue(builder);

            var app = builder.Build();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapFinanceEndpoints();
            PublisherPortal.Revenue.RevenueExtensions.MapRevenueEndpoints(app);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new FinanceHost(app, new Uri(address));
        }

        public HttpClient Client(string? email, params string[] roles)
        {
            var client = new HttpClient { BaseAddress = _baseUri };
            if (email is not null)
            {
                client.DefaultRequestHeaders.Add("X-Test-User", email);
                client.DefaultRequestHeaders.Add("X-Test-Roles", string.Join(',', roles));
            }

            return client;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed class HeaderSignIn(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue("X-Test-User", out var email))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var claims = new List<Claim> { new("preferred_username", email.ToString()), new("name", email.ToString()) };
            claims.AddRange(Request.Headers["X-Test-Roles"].ToString()
                .Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(r => new Claim("roles", r)));
            var identity = new ClaimsIdentity(claims, Scheme.Name, "preferred_username", "roles");
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }
    }
}
