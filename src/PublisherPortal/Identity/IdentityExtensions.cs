using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Identity.Web;

namespace PublisherPortal.Identity;

/// <summary>
/// Sign-in is Entra ID through Microsoft.Identity.Web, multi-tenant, in both modes: in demo mode the "AzureAd" section
/// simply points at the emulator's identity side, so the same OpenID Connect code path runs.
/// </summary>
public static class IdentityExtensions
{
    public const string AzureAdSection = "AzureAd";

    /// <summary>The page a signed-in person without the needed role lands on (<see cref="AccessDeniedPage"/>).</summary>
    public const string AccessDeniedPath = "/account/denied";

    public static IHostApplicationBuilder AddPortalIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services
            .AddAuthentication(OpenIdConnectDefaults.AuthenticationScheme)
            .AddMicrosoftIdentityWebApp(builder.Configuration.GetSection(AzureAdSection));

        builder.Services.Configure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, options =>
        {
            // Identity.Web maps the token's "roles" claim to ClaimTypes.Role (as it does against real Entra ID):
            // roles are read from that type, so the same check works in both modes.
            options.TokenValidationParameters.RoleClaimType = ClaimTypes.Role;
            options.TokenValidationParameters.NameClaimType = "preferred_username";
        });

        // A full page load by someone without the page's role is forbidden by the authorization middleware before Blazor
        // runs; without this the cookie scheme sends them to Identity.Web's UI route, which we do not have (a bare error).
        builder.Services.PostConfigure<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme, options =>
            options.AccessDeniedPath = AccessDeniedPath);

        builder.Services.Configure<RoleAssignmentOptions>(builder.Configuration.GetSection(RoleAssignmentOptions.Section));
        builder.Services.AddTransient<IClaimsTransformation, ConfiguredRoleAssignments>();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Customer, p => p.RequireAuthenticatedUser())
            .AddPolicy(Policies.Operator, p => p.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Policies.Finance, p => p.RequireRole(Roles.Finance, Roles.Admin))
            .AddPolicy(Policies.Staff, p => p.RequireRole(Roles.Operator, Roles.Finance, Roles.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin));

        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    /// <summary>Our own sign-in and sign-out endpoints (Microsoft.Identity.Web.UI is not available to us).</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var account = endpoints.MapGroup("/account").AllowAnonymous();

        account.MapGet("/signin", (string? returnUrl, HttpContext http) =>
            Results.Challenge(
                new AuthenticationProperties { RedirectUri = LocalOnly(returnUrl) },
                [OpenIdConnectDefaults.AuthenticationScheme]));

        // returnUrl lets "sign in with another account" come back to the same landing link, purchase token included.
        account.MapGet("/signout", (string? returnUrl, HttpContext http) =>
            Results.SignOut(
                new AuthenticationProperties { RedirectUri = LocalOnly(returnUrl) },
                [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]));

        return endpoints;
    }

    /// <summary>
    /// The returnUrl to follow after the identity provider's round trip, or "/". An open redirect would let a crafted
    /// link send a customer anywhere with our branding, so only what ASP.NET Core itself calls local is followed
    /// (RedirectHttpResult.IsLocalUrl: an absolute path, never "//" or "/\", no control characters), and only when it is
    /// printable ASCII without spaces: browsers drop tabs and line breaks before resolving a Location ("/\t/evil.example"
    /// becomes "//evil.example"), and a Location header cannot carry other characters at all (Kestrel answers 500).
    /// The value arrives here decoded once by query binding, so "%09" and "%0D%0A" are already the characters they encode.
    /// </summary>
    internal static string LocalOnly(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && RedirectHttpResult.IsLocalUrl(url) && url.All(c => c is > ' ' and < '\x7f')
            ? url
            : "/";
}

/// <summary>Roles for named users, for tenants that do not use Entra app roles. Keyed by e-mail/UPN.</summary>
public sealed class RoleAssignmentOptions
{
    public const string Section = "Portal:RoleAssignments";

    public Dictionary<string, string[]> Users { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

internal sealed class ConfiguredRoleAssignments(Microsoft.Extensions.Options.IOptionsMonitor<RoleAssignmentOptions> options)
    : IClaimsTransformation
{
    public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        if (principal.Identity is not ClaimsIdentity { IsAuthenticated: true } identity)
        {
            return Task.FromResult(principal);
        }

        var name = principal.FindFirstValue("preferred_username") ?? principal.FindFirstValue(ClaimTypes.Email);
        if (name is null || !options.CurrentValue.Users.TryGetValue(name, out var roles))
        {
            return Task.FromResult(principal);
        }

        foreach (var role in roles.Where(r => !principal.IsInRole(r)))
        {
            identity.AddClaim(new Claim(identity.RoleClaimType, role));
        }

        return Task.FromResult(principal);
    }
}
