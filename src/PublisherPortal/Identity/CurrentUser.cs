using System.Security.Claims;

namespace PublisherPortal.Identity;

/// <summary>The signed-in person as the portal needs them: who, from which tenant, and for the audit log.</summary>
public sealed record CurrentUser(string? ObjectId, string? TenantId, string? Email, string DisplayName)
{
    public static CurrentUser From(ClaimsPrincipal principal) => new(
        principal.FindFirstValue("oid") ?? principal.FindFirstValue("http://schemas.microsoft.com/identity/claims/objectidentifier"),
        principal.FindFirstValue("tid") ?? principal.FindFirstValue("http://schemas.microsoft.com/identity/claims/tenantid"),
        principal.FindFirstValue("preferred_username") ?? principal.FindFirstValue("email") ?? principal.FindFirstValue(ClaimTypes.Email),
        principal.FindFirstValue("name") ?? principal.Identity?.Name ?? "unknown");

    /// <summary>How the audit log and history name this person.</summary>
    public string Actor => Email ?? ObjectId ?? DisplayName;
}
