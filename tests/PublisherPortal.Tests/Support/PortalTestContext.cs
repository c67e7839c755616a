using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using PublisherPortal.Identity;

namespace PublisherPortal.Tests.Support;

/// <summary>
/// bUnit context for portal components: MudBlazor services, loose JS interop (MudBlazor calls JS we do not assert on),
/// and a signed-in user with the given roles.
/// </summary>
public abstract class PortalTestContext : BunitContext
{
    protected PortalTestContext()
    {
        // Pages query a real database; on a loaded 2-core CI machine one second is not always enough for that.
        DefaultWaitTimeout = TimeSpan.FromSeconds(15);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(TimeProvider.System);
    }

    /// <summary>Signs in a person; roles are Entra app role names from <see cref="Roles"/>.</summary>
    protected void SignIn(string email, string tenantId, params string[] roles)
    {
        var auth = AddAuthorization();
        // bUnit 2 builds the principal when SetAuthorized runs: claims and roles set afterwards never reached the
        // cascaded authentication state (only "name" did), so they go first.
        auth.SetClaims(
            new System.Security.Claims.Claim("preferred_username", email),
            new System.Security.Claims.Claim("name", email),
            new System.Security.Claims.Claim("tid", tenantId),
            new System.Security.Claims.Claim("oid", Guid.NewGuid().ToString()));
        auth.SetRoles(roles);
        auth.SetAuthorized(email);
        auth.SetPolicies(PoliciesFor(roles));
    }

    private static string[] PoliciesFor(string[] roles)
    {
        var policies = new List<string> { Policies.Customer };
        bool Has(string r) => roles.Contains(r);
        if (Has(Roles.Operator) || Has(Roles.Admin)) policies.Add(Policies.Operator);
        if (Has(Roles.Finance) || Has(Roles.Admin)) policies.Add(Policies.Finance);
        if (Has(Roles.Operator) || Has(Roles.Finance) || Has(Roles.Admin)) policies.Add(Policies.Staff);
        if (Has(Roles.Admin)) policies.Add(Policies.Admin);
        return [.. policies];
    }
}
