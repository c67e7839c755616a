using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PublisherPortal.Tests.Support;

/// <summary>
/// Signs a request in as the person named by its X-Test-User header, with the app roles in X-Test-Roles, in place of the
/// portal's OpenID Connect challenge: the whole portal is hosted, only who is signed in comes from the test.
/// </summary>
public sealed class HeaderSignIn(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string SchemeName = "Test";

    /// <summary>Makes this scheme every default of the portal's authentication, after the portal's own set-up.</summary>
    public static void Replace(IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, HeaderSignIn>(SchemeName, _ => { });
        services.PostConfigure<AuthenticationOptions>(o =>
        {
            o.DefaultScheme = SchemeName;
            o.DefaultAuthenticateScheme = SchemeName;
            o.DefaultChallengeScheme = SchemeName;
            o.DefaultForbidScheme = SchemeName;
            o.DefaultSignInScheme = SchemeName;
        });
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue("X-Test-User", out var email))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var claims = new List<Claim> { new("preferred_username", email.ToString()), new("name", email.ToString()) };
        claims.AddRange(Request.Headers["X-Test-Roles"].ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(r => new Claim(ClaimTypes.Role, r)));
        var identity = new ClaimsIdentity(claims, Scheme.Name, "preferred_username", ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
